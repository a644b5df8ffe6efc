// The suite's test origin server, bound to one loopback address.
//
//   node lib/origin.mjs PORT [HOST]        (HOST defaults to 127.0.0.1)
//
// http-cache-tests' own server/server.mjs listens on every interface and
// writes a pid file into the current directory. This launcher dispatches
// to the very same handlers (server/handle-*.mjs of the pinned package)
// exactly as server.mjs does, but listens on loopback only.
import http from 'http'
import path from 'path'
import { fileURLToPath } from 'url'

const here = path.dirname(fileURLToPath(import.meta.url))
const suiteDir = path.join(here, '..', 'node_modules', 'http-cache-tests')
const load = async name => (await import(path.join(suiteDir, 'server', name))).default
const handleConfig = await load('handle-config.mjs')
const handleFile = await load('handle-file.mjs')
const handleState = await load('handle-state.mjs')
const handleTest = await load('handle-test.mjs')

const port = parseInt(process.argv[2], 10)
const host = process.argv[3] || '127.0.0.1'
if (!Number.isInteger(port) || port <= 0) {
  console.error('usage: node lib/origin.mjs PORT [HOST]')
  process.exit(2)
}
const baseUrl = `http://${host}:${port}/`
process.chdir(suiteDir) // handle-file serves the suite's files, as server.mjs does

// Same dispatch as server/server.mjs handleMain.
function handleMain (request, response) {
  const url = new URL(request.url, baseUrl)
  const pathSegs = url.pathname.split('/')
  pathSegs.shift()
  const dispatch = pathSegs.shift()
  if (dispatch === 'config') {
    handleConfig(pathSegs, request, response)
  } else if (dispatch === 'test') {
    handleTest(pathSegs, request, response)
  } else if (dispatch === 'state') {
    handleState(pathSegs, request, response)
  } else {
    handleFile(url, request, response)
  }
}

const server = http.createServer(handleMain)
server.on('listening', () => console.log(`Listening on ${baseUrl}`))
server.listen(port, host)
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)))
