//! Value types of the configuration file: durations ("90s", "5m", "1d"),
//! byte sizes ("8MiB"), secrets ("env:NAME") and address ranges.
//!
//! Each type parses itself in `Deserialize`, so that a bad value is reported
//! by serde with the key it sits under.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A duration written as "250ms", "90s", "5m", "2h", "1d" or a sum such as "1h30m".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dur(pub Duration);

impl Dur {
    pub const fn secs(s: u64) -> Self {
        Self(Duration::from_secs(s))
    }
    pub fn get(self) -> Duration {
        self.0
    }
}

impl FromStr for Dur {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        if text.is_empty() {
            return Err("empty duration".into());
        }
        if text == "0" {
            return Ok(Dur(Duration::ZERO));
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!(
                    "invalid duration {s:?}: expected a number followed by ms, s, m, h or d (e.g. \"90s\", \"5m\", \"1d\")"
                ));
            }
            let number: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("invalid duration {s:?}: number too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let part = match unit {
                "ms" => Duration::from_millis(number),
                "s" => Duration::from_secs(number),
                "m" => Duration::from_secs(number.saturating_mul(60)),
                "h" => Duration::from_secs(number.saturating_mul(3600)),
                "d" => Duration::from_secs(number.saturating_mul(86_400)),
                "" => {
                    return Err(format!(
                        "invalid duration {s:?}: the unit is missing (ms, s, m, h or d)"
                    ));
                }
                other => {
                    return Err(format!(
                        "invalid duration {s:?}: unknown unit {other:?} (use ms, s, m, h or d)"
                    ));
                }
            };
            total = total.saturating_add(part);
        }
        Ok(Dur(total))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"5m\" or \"1d\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dur, E> {
                if v == 0 {
                    Ok(Dur(Duration::ZERO))
                } else {
                    Err(E::custom(format!(
                        "a duration needs a unit: write \"{v}s\" for seconds"
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A size in bytes written as "0", "4096", "64KiB", "8MiB", "1GB" (KB = 1000, KiB = 1024).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub const fn mib(n: u64) -> Self {
        Self(n * 1024 * 1024)
    }
    pub fn get(self) -> u64 {
        self.0
    }
    /// The size as `usize`, saturating on 32-bit targets.
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let unit = unit.trim();
        let bad = || {
            format!(
                "invalid size {s:?}: expected a number with an optional unit (B, KB, KiB, MB, MiB, GB, GiB), e.g. \"8MiB\""
            )
        };
        if number.is_empty() {
            return Err(bad());
        }
        let factor: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" | "k" => 1_000,
            "kib" => 1 << 10,
            "mb" => 1_000_000,
            "mib" => 1 << 20,
            "gb" => 1_000_000_000,
            "gib" => 1 << 30,
            "tb" => 1_000_000_000_000,
            "tib" => 1 << 40,
            _ => return Err(bad()),
        };
        let bytes = if number.contains('.') {
            let value: f64 = number.parse().map_err(|_| bad())?;
            let bytes = value * factor as f64;
            if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
                return Err(bad());
            }
            bytes.round() as u64
        } else {
            let value: u64 = number.parse().map_err(|_| bad())?;
            value
                .checked_mul(factor)
                .ok_or_else(|| format!("invalid size {s:?}: too large"))?
        };
        Ok(ByteSize(bytes))
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"8MiB\" or a number of bytes")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::custom("a size cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

/// A secret value. `env:NAME` reads the environment variable NAME at load
/// time; anything else is the literal secret. Debug output never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        resolve_env(&raw).map(Secret).map_err(de::Error::custom)
    }
}

/// `env:NAME` → the value of NAME; anything else → itself.
pub fn resolve_env(raw: &str) -> Result<String, String> {
    match raw.strip_prefix("env:") {
        Some(name) => match std::env::var(name) {
            Ok(value) if !value.is_empty() => Ok(value),
            Ok(_) => Err(format!("environment variable {name} is empty")),
            Err(_) => Err(format!("environment variable {name} is not set")),
        },
        None => Ok(raw.to_owned()),
    }
}

/// An Ed25519 secret key's 32-byte seed, written as 64 hex digits or in
/// base64 (standard or URL-safe, padded or not).
pub fn ed25519_seed(text: &str) -> Result<[u8; 32], String> {
    use base64::Engine;
    let t = text.trim();
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
            .collect::<Result<Vec<u8>, String>>()?
    } else {
        let unpadded = t.trim_end_matches('=');
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(unpadded)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(unpadded))
            .map_err(|_| "must be 32 bytes as 64 hex digits or base64".to_owned())?
    };
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "must be a 32-byte Ed25519 seed (64 hex digits or base64); this is {} bytes",
            bytes.len()
        )
    })
}

/// An address range: "10.0.0.0/8", "::1/128", or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr(pub IpNet);

impl Cidr {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl FromStr for Cidr {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Cidr(net.trunc()));
        }
        s.parse::<IpAddr>()
            .map(|ip| Cidr(IpNet::from(ip)))
            .map_err(|_| {
                format!(
                    "invalid address range {s:?}: expected e.g. \"10.0.0.0/8\" or \"127.0.0.1\""
                )
            })
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_sums() {
        assert_eq!("90s".parse::<Dur>().unwrap(), Dur::secs(90));
        assert_eq!("5m".parse::<Dur>().unwrap(), Dur::secs(300));
        assert_eq!("1d".parse::<Dur>().unwrap(), Dur::secs(86_400));
        assert_eq!("1h30m".parse::<Dur>().unwrap(), Dur::secs(5_400));
        assert_eq!(
            "250ms".parse::<Dur>().unwrap(),
            Dur(Duration::from_millis(250))
        );
        assert_eq!("0".parse::<Dur>().unwrap(), Dur(Duration::ZERO));
    }

    #[test]
    fn durations_without_unit_or_with_unknown_unit_are_refused() {
        assert!("90".parse::<Dur>().is_err());
        assert!("5 minutes".parse::<Dur>().is_err());
        assert!("s".parse::<Dur>().is_err());
        assert!("".parse::<Dur>().is_err());
    }

    #[test]
    fn sizes_parse_binary_and_decimal_units() {
        assert_eq!("8MiB".parse::<ByteSize>().unwrap(), ByteSize(8 << 20));
        assert_eq!("256MiB".parse::<ByteSize>().unwrap(), ByteSize(256 << 20));
        assert_eq!("1KB".parse::<ByteSize>().unwrap(), ByteSize(1000));
        assert_eq!("0".parse::<ByteSize>().unwrap(), ByteSize(0));
        assert_eq!("1.5KiB".parse::<ByteSize>().unwrap(), ByteSize(1536));
        assert!("8XB".parse::<ByteSize>().is_err());
        assert!("MiB".parse::<ByteSize>().is_err());
        assert!("99999999999TiB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn cidr_accepts_bare_addresses() {
        let c: Cidr = "127.0.0.1".parse().unwrap();
        assert!(c.contains(&"127.0.0.1".parse().unwrap()));
        assert!(!c.contains(&"127.0.0.2".parse().unwrap()));
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains(&"10.1.2.3".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    }
}
