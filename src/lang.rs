//! The few sentences the mirror writes itself to readers (the mirror list's
//! page, the link to it in the nav bar, the service worker's failover
//! banner and offline page, the most read page), in the languages readers of censored news
//! read most. A leaf: it names no other module.

/// A language of the mirror's own words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
    Ru,
    Fa,
    Es,
}

/// The sentences of one language. `{mirror}` in `banner` is the origin
/// that answered.
#[derive(Debug, serde::Serialize)]
pub struct Words {
    pub code: &'static str,
    /// `rtl` or `ltr`.
    pub dir: &'static str,
    pub nav_label: &'static str,
    pub title: &'static str,
    pub intro: &'static str,
    pub this_mirror: &'static str,
    pub answering: &'static str,
    pub not_answering: &'static str,
    pub not_checked: &'static str,
    pub last_answered: &'static str,
    pub signed: &'static str,
    pub banner: &'static str,
    pub saved_banner: &'static str,
    pub offline_title: &'static str,
    pub try_mirrors: &'static str,
    pub saved_pages: &'static str,
    /// The most read page's title, and the two windows.
    pub most_read: &'static str,
    pub last_hour: &'static str,
    pub last_day: &'static str,
}

impl Lang {
    pub const CODES: [&'static str; 5] = ["en", "zh", "ru", "fa", "es"];

    pub fn from_code(code: &str) -> Option<Lang> {
        match code.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "zh" | "zh-cn" | "zh-hans" => Some(Lang::Zh),
            "ru" => Some(Lang::Ru),
            "fa" => Some(Lang::Fa),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The language a site's own labels (nav items, footer) are written
    /// in, among these; English when it is none of them.
    pub fn guess(text: &str) -> Lang {
        match whatlang::detect(text).map(|i| i.lang()) {
            Some(whatlang::Lang::Cmn | whatlang::Lang::Jpn) => Lang::Zh,
            Some(whatlang::Lang::Rus | whatlang::Lang::Ukr | whatlang::Lang::Bel) => Lang::Ru,
            Some(whatlang::Lang::Pes | whatlang::Lang::Ara | whatlang::Lang::Urd) => Lang::Fa,
            Some(whatlang::Lang::Spa) => Lang::Es,
            _ => Lang::En,
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::En => &EN,
            Lang::Zh => &ZH,
            Lang::Ru => &RU,
            Lang::Fa => &FA,
            Lang::Es => &ES,
        }
    }
}

static EN: Words = Words {
    code: "en",
    dir: "ltr",
    nav_label: "Mirrors",
    title: "Mirrors of this site",
    intro: "If this address is blocked, the same pages are at these addresses.",
    this_mirror: "this mirror",
    answering: "answering",
    not_answering: "not answering",
    not_checked: "not checked",
    last_answered: "last answered",
    signed: "This list is signed with the Ed25519 key",
    banner: "This page comes from {mirror}, because this address did not answer.",
    saved_banner: "No mirror answers: this is the copy saved when you read it.",
    offline_title: "No mirror answers right now",
    try_mirrors: "Try these addresses",
    saved_pages: "Pages you read, saved in this browser",
    most_read: "Most read",
    last_hour: "Last hour",
    last_day: "Last day",
};

static ZH: Words = Words {
    code: "zh",
    dir: "ltr",
    nav_label: "镜像列表",
    title: "本站镜像",
    intro: "如果本网址被封锁，可以在以下网址阅读相同的页面。",
    this_mirror: "本镜像",
    answering: "可以访问",
    not_answering: "无法访问",
    not_checked: "未检查",
    last_answered: "最近一次可以访问",
    signed: "本列表的 Ed25519 签名公钥",
    banner: "本页来自 {mirror}，因为当前网址无法访问。",
    saved_banner: "所有镜像都无法访问：这是您阅读时保存的副本。",
    offline_title: "目前所有镜像都无法访问",
    try_mirrors: "请尝试以下网址",
    saved_pages: "您读过的页面（保存在本浏览器中）",
    most_read: "最多阅读",
    last_hour: "过去一小时",
    last_day: "过去一天",
};

static RU: Words = Words {
    code: "ru",
    dir: "ltr",
    nav_label: "Зеркала",
    title: "Зеркала этого сайта",
    intro: "Если этот адрес заблокирован, те же страницы открываются по этим адресам.",
    this_mirror: "это зеркало",
    answering: "отвечает",
    not_answering: "не отвечает",
    not_checked: "не проверялось",
    last_answered: "последний ответ",
    signed: "Список подписан ключом Ed25519",
    banner: "Эта страница получена с {mirror}: текущий адрес не ответил.",
    saved_banner: "Ни одно зеркало не отвечает: это копия, сохранённая при чтении.",
    offline_title: "Сейчас ни одно зеркало не отвечает",
    try_mirrors: "Попробуйте эти адреса",
    saved_pages: "Прочитанные страницы, сохранённые в этом браузере",
    most_read: "Самое читаемое",
    last_hour: "За час",
    last_day: "За сутки",
};

static FA: Words = Words {
    code: "fa",
    dir: "rtl",
    nav_label: "آینه‌ها",
    title: "آینه‌های این سایت",
    intro: "اگر این نشانی مسدود شد، همین صفحه‌ها در این نشانی‌ها هستند.",
    this_mirror: "همین آینه",
    answering: "در دسترس",
    not_answering: "در دسترس نیست",
    not_checked: "بررسی نشده",
    last_answered: "آخرین پاسخ",
    signed: "این فهرست با کلید Ed25519 امضا شده است",
    banner: "این صفحه از {mirror} آمده است، چون این نشانی پاسخ نداد.",
    saved_banner: "هیچ آینه‌ای پاسخ نمی‌دهد: این نسخه‌ای است که هنگام خواندن ذخیره شد.",
    offline_title: "اکنون هیچ آینه‌ای پاسخ نمی‌دهد",
    try_mirrors: "این نشانی‌ها را امتحان کنید",
    saved_pages: "صفحه‌هایی که خواندید، ذخیره‌شده در این مرورگر",
    most_read: "پربازدیدترین‌ها",
    last_hour: "یک ساعت گذشته",
    last_day: "یک روز گذشته",
};

static ES: Words = Words {
    code: "es",
    dir: "ltr",
    nav_label: "Espejos",
    title: "Espejos de este sitio",
    intro: "Si esta dirección está bloqueada, las mismas páginas están en estas direcciones.",
    this_mirror: "este espejo",
    answering: "responde",
    not_answering: "no responde",
    not_checked: "sin comprobar",
    last_answered: "última respuesta",
    signed: "Esta lista está firmada con la clave Ed25519",
    banner: "Esta página viene de {mirror}, porque esta dirección no respondió.",
    saved_banner: "Ningún espejo responde: esta es la copia guardada cuando la leyó.",
    offline_title: "Ahora ningún espejo responde",
    try_mirrors: "Pruebe estas direcciones",
    saved_pages: "Páginas que leyó, guardadas en este navegador",
    most_read: "Lo más leído",
    last_hour: "Última hora",
    last_day: "Último día",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_labels_language_is_guessed() {
        assert_eq!(Lang::guess("首页 国际 原文链接"), Lang::Zh);
        assert_eq!(Lang::guess("Главная Мир Оригинал статьи"), Lang::Ru);
        assert_eq!(Lang::guess("Home World Original article"), Lang::En);
        assert_eq!(Lang::guess(""), Lang::En);
    }

    #[test]
    fn every_code_parses() {
        for code in Lang::CODES {
            assert_eq!(Lang::from_code(code).map(|l| l.words().code), Some(code));
        }
        assert_eq!(Lang::from_code("xx"), None);
    }
}
