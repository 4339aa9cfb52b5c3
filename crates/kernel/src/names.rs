//! Keys that make likely duplicates equal: names compared after normalisation, and the
//! e-mail domain of a company (public mail providers excluded).
//!
//! A name key is lower case, without accents, apostrophes or punctuation, words separated by
//! one space. A word written in Cyrillic is transliterated to Latin (Uzbek conventions:
//! `Ғ` → `g`, `Ў` → `o`, `Ж` → `j`), and a word mixing the two scripts has its Cyrillic
//! look-alikes read as the Latin letters they imitate (`Саmpus` with a Cyrillic `С` is
//! `campus`). Company names also lose their legal form (`LLC`, `Ltd`, `Inc`, `MChJ`, `OOO`,
//! `AJ`, ...) wherever it stands.

use unicode_normalization::UnicodeNormalization;

/// Legal forms dropped from company names (as name keys).
const LEGAL_FORMS: [&str; 12] =
    ["llc", "ltd", "inc", "mchj", "ooo", "aj", "corp", "co", "gmbh", "limited", "incorporated", "xk"];

/// Mail providers whose domain says nothing about the company.
const PUBLIC_DOMAINS: [&str; 30] = [
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "ymail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "gmx.de",
    "mail.com",
    "zoho.com",
    "yandex.ru",
    "yandex.com",
    "yandex.uz",
    "ya.ru",
    "mail.ru",
    "inbox.ru",
    "list.ru",
    "bk.ru",
    "rambler.ru",
    "umail.uz",
    "inbox.uz",
    "qq.com",
];

/// The key of a person's name.
pub fn person_key(first: &str, last: &str) -> String {
    name_key(&format!("{first} {last}"), false)
}

/// The key of a company's name (legal forms dropped).
pub fn company_key(name: &str) -> String {
    name_key(name, true)
}

fn name_key(name: &str, company: bool) -> String {
    let mut words = Vec::new();
    for word in name.split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '-' | '/' | '(' | ')' | '&' | '"')) {
        let word = fold_word(word);
        if word.is_empty() || (company && LEGAL_FORMS.contains(&word.as_str())) {
            continue;
        }
        words.push(word);
    }
    words.join(" ")
}

/// One word: scripts folded to Latin, accents and apostrophes dropped, lower case.
fn fold_word(word: &str) -> String {
    let has_latin = word.chars().any(|c| c.is_ascii_alphabetic());
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if matches!(c, '\'' | '`' | '\u{02BB}' | '\u{02BC}' | '\u{2018}' | '\u{2019}') {
            continue;
        }
        if is_cyrillic(c) {
            // Before any decomposition: `Ў` and `Й` are letters of their own, not accented ones.
            if has_latin && let Some(l) = look_alike(c) {
                out.push(l);
            } else {
                out.push_str(transliterate(c));
            }
        } else {
            // Accents fall away as combining marks after NFKD; punctuation is dropped below.
            out.extend(c.nfkd().flat_map(char::to_lowercase));
        }
    }
    out.chars().filter(|c| c.is_alphanumeric()).collect()
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

/// The Latin letter a Cyrillic one imitates, if it imitates one.
fn look_alike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'А' => 'a',
        'В' | 'в' => 'b',
        'е' | 'Е' | 'ё' | 'Ё' => 'e',
        'К' | 'к' => 'k',
        'М' | 'м' => 'm',
        'Н' | 'н' => 'h',
        'о' | 'О' => 'o',
        'р' | 'Р' => 'p',
        'с' | 'С' => 'c',
        'Т' | 'т' => 't',
        'у' | 'У' => 'y',
        'х' | 'Х' => 'x',
        'і' | 'І' => 'i',
        'ј' | 'Ј' => 'j',
        'ѕ' | 'Ѕ' => 's',
        _ => return None,
    })
}

/// A Cyrillic letter in Latin (Uzbek and Russian conventions).
fn transliterate(c: char) -> &'static str {
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'э' | 'є' => "e",
        'ё' => "yo",
        'ж' => "j",
        'з' => "z",
        'и' | 'і' | 'ї' => "i",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "x",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "sch",
        'ы' => "y",
        'ю' => "yu",
        'я' => "ya",
        'ў' => "o",
        'қ' => "q",
        'ғ' => "g",
        'ҳ' => "h",
        _ => "",
    }
}

/// The domain of an e-mail address, lower case, unless it is a public mail provider's.
pub fn company_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_lowercase();
    if domain.is_empty() || PUBLIC_DOMAINS.contains(&domain.as_str()) {
        return None;
    }
    Some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_match_across_case_spacing_punctuation_and_script() {
        let key = person_key("Aziz", "Karimov");
        assert_eq!(key, "aziz karimov");
        assert_eq!(person_key("  AZIZ ", "karimov."), key);
        assert_eq!(person_key("Азиз", "Каримов"), key, "Cyrillic transliterated");
        assert_eq!(person_key("Aziz", "Kаrimov"), key, "a Cyrillic а inside a Latin word is an a");
        assert_eq!(person_key("Gʻulom", "Oʻrinov"), person_key("G'ulom", "O`rinov"));
        assert_eq!(person_key("Ғулом", "Ўринов"), person_key("Gulom", "Orinov"));
        assert_eq!(person_key("José", "Núñez"), "jose nunez");
        assert_ne!(person_key("Aziz", "Karimov"), person_key("Aziza", "Karimova"));
    }

    #[test]
    fn companies_lose_their_legal_form() {
        let key = company_key("Acme");
        assert_eq!(company_key("ACME, LLC"), key);
        assert_eq!(company_key("Acme Ltd."), key);
        assert_eq!(company_key("Acme Inc"), key);
        assert_eq!(company_key("\"Acme\" MChJ"), key);
        assert_eq!(company_key("OOO \"Acme\""), key);
        assert_eq!(company_key("ООО «Асме»"), "asme", "a wholly Cyrillic word is transliterated");
        assert_eq!(company_key("Acme AJ"), key);
        assert_eq!(company_key("Toshkent Tekstil MChJ"), "toshkent tekstil");
        assert_eq!(company_key("Тошкент Текстил МЧЖ"), "toshkent tekstil");
    }

    #[test]
    fn public_mail_domains_are_not_company_domains() {
        assert_eq!(company_domain("Jane@Acme.UZ"), Some("acme.uz".into()));
        assert_eq!(company_domain("jane@gmail.com"), None);
        assert_eq!(company_domain("jane@mail.ru"), None);
        assert_eq!(company_domain("not an address"), None);
    }
}
