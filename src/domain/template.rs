//! Message templates: `{code}` and `{name}` placeholders. Names are `[A-Za-z0-9_]`, 1–64
//! characters; `{{` and `}}` write a literal brace. A template is parsed when it is stored,
//! so rendering only fails on variables that do not match it.
use std::collections::BTreeSet;
use std::fmt;

pub const CODE: &str = "code";
pub const MAX_BODY_CHARS: usize = 1000;
/// A caller's variable value may be at most this long…
pub const MAX_VARIABLE_CHARS: usize = 256;
/// …and the rendered text at most this long (10 SMS segments of 160 GSM characters).
pub const MAX_RENDERED_CHARS: usize = 1600;

/// A stored template: its body as written (parsed when it was stored).
#[derive(Debug, Clone)]
pub struct TemplateRecord {
    pub id: String,
    pub name: String,
    pub channel: String,
    pub body: String,
    pub created_at: i64,
    /// The customer that owns it; `None`: the operator's, shared with every account.
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(String),
}

/// A message's variables as the caller sent them (values are rendered as text).
pub type Variables = serde_json::Map<String, serde_json::Value>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    Empty,
    TooLong,
    /// A control character other than a line break or a tab.
    ControlCharacter,
    VariableTooLong(String),
    RenderedTooLong,
    /// A `{` or `}` that does not form a placeholder, at this character position.
    BadBrace(usize),
    Missing(Vec<String>),
    Unknown(Vec<String>),
    BadValue(String),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Empty => write!(f, "template body is empty"),
            TemplateError::TooLong => write!(
                f,
                "template body is longer than {MAX_BODY_CHARS} \
                characters"
            ),
            TemplateError::ControlCharacter => write!(
                f,
                "template body contains a control character (only line breaks and tabs are \
                allowed)"
            ),
            TemplateError::VariableTooLong(name) => {
                write!(
                    f,
                    "template variable '{name}' is longer than {MAX_VARIABLE_CHARS} characters"
                )
            }
            TemplateError::RenderedTooLong => {
                write!(
                    f,
                    "the rendered message is longer than {MAX_RENDERED_CHARS} characters"
                )
            }
            TemplateError::BadBrace(at) => write!(
                f,
                "template body has an unmatched brace at \
                character {at}; placeholders look like {{name}}, literal braces are written {{{{ \
                and }}}}"
            ),
            TemplateError::Missing(names) => write!(
                f,
                "missing template variable(s): \
                {}",
                names.join(", ")
            ),
            TemplateError::Unknown(names) => write!(
                f,
                "unknown template variable(s): \
                {}",
                names.join(", ")
            ),
            TemplateError::BadValue(name) => write!(
                f,
                "template variable '{name}' must be a \
                string or a number"
            ),
        }
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Template {
    pub fn parse(body: &str) -> Result<Template, TemplateError> {
        if body.trim().is_empty() {
            return Err(TemplateError::Empty);
        }
        if body.chars().count() > MAX_BODY_CHARS {
            return Err(TemplateError::TooLong);
        }
        if body
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(TemplateError::ControlCharacter);
        }
        let chars: Vec<char> = body.chars().collect();
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            match c {
                '{' if chars.get(i + 1) == Some(&'{') => {
                    text.push('{');
                    i += 2;
                }
                '}' if chars.get(i + 1) == Some(&'}') => {
                    text.push('}');
                    i += 2;
                }
                '{' => {
                    let name: String = chars
                        .iter()
                        .skip(i + 1)
                        .take_while(|c| is_name_char(**c))
                        .collect();
                    let close = i + 1 + name.chars().count();
                    if name.is_empty() || name.len() > 64 || chars.get(close) != Some(&'}') {
                        return Err(TemplateError::BadBrace(i));
                    }
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Var(name));
                    i = close + 1;
                }
                '}' => return Err(TemplateError::BadBrace(i)),
                _ => {
                    text.push(c);
                    i += 1;
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template { pieces })
    }

    /// The placeholder names, sorted, each once.
    pub fn variables(&self) -> BTreeSet<&str> {
        self.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Var(n) => Some(n.as_str()),
                Piece::Text(_) => None,
            })
            .collect()
    }

    pub fn has_code(&self) -> bool {
        self.variables().contains(CODE)
    }

    /// Fills every placeholder. `code` fills `{code}` (it is never a caller variable);
    /// every other placeholder needs a variable, and every variable needs a placeholder.
    pub fn render(
        &self,
        code: Option<&str>,
        variables: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<String, TemplateError> {
        let used = self.variables();
        let mut unknown: Vec<String> = variables
            .keys()
            .filter(|k| k.as_str() == CODE || !used.contains(k.as_str()))
            .cloned()
            .collect();
        unknown.sort_unstable();
        if !unknown.is_empty() {
            return Err(TemplateError::Unknown(unknown));
        }
        let missing: Vec<String> = used
            .iter()
            .filter(|n| {
                if **n == CODE {
                    code.is_none()
                } else {
                    !variables.contains_key(**n)
                }
            })
            .map(|n| (*n).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(TemplateError::Missing(missing));
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(n) if n == CODE => out.push_str(code.unwrap_or_default()),
                Piece::Var(n) => {
                    let value = match variables.get(n) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(serde_json::Value::Number(x)) => x.to_string(),
                        _ => return Err(TemplateError::BadValue(n.clone())),
                    };
                    if value.chars().count() > MAX_VARIABLE_CHARS {
                        return Err(TemplateError::VariableTooLong(n.clone()));
                    }
                    out.push_str(&value);
                }
            }
        }
        if out.chars().count() > MAX_RENDERED_CHARS {
            return Err(TemplateError::RenderedTooLong);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn renders_code_and_variables() {
        let t = Template::parse("Hi {name}, your {app} code is {code}. {{not a var}}").unwrap();
        assert!(t.has_code());
        let text = t
            .render(Some("123456"), &vars(json!({"name": "Ana", "app": 7})))
            .unwrap();
        assert_eq!(text, "Hi Ana, your 7 code is 123456. {not a var}");
    }

    #[test]
    fn missing_and_unknown_variables_are_errors() {
        let t = Template::parse("Hi {name}, code {code}").unwrap();
        assert_eq!(
            t.render(Some("1"), &vars(json!({}))),
            Err(TemplateError::Missing(vec!["name".into()]))
        );
        assert_eq!(
            t.render(None, &vars(json!({"name": "A"}))),
            Err(TemplateError::Missing(vec!["code".into()]))
        );
        assert_eq!(
            t.render(Some("1"), &vars(json!({"name": "A", "extra": "x"}))),
            Err(TemplateError::Unknown(vec!["extra".into()]))
        );
        assert_eq!(
            t.render(Some("1"), &vars(json!({"name": "A", "code": "9"}))),
            Err(TemplateError::Unknown(vec!["code".into()]))
        );
        assert_eq!(
            t.render(Some("1"), &vars(json!({"name": {"x": 1}}))),
            Err(TemplateError::BadValue("name".into()))
        );
    }

    #[test]
    fn bad_templates_are_refused_when_stored() {
        assert_eq!(Template::parse("  "), Err(TemplateError::Empty));
        assert_eq!(
            Template::parse("code {code"),
            Err(TemplateError::BadBrace(5))
        );
        assert_eq!(Template::parse("a } b"), Err(TemplateError::BadBrace(2)));
        assert_eq!(Template::parse("{}"), Err(TemplateError::BadBrace(0)));
        assert_eq!(Template::parse("{a b}"), Err(TemplateError::BadBrace(0)));
        assert!(!Template::parse("no code here").unwrap().has_code());
        assert!(Template::parse(&"x".repeat(MAX_BODY_CHARS + 1)).is_err());
        assert_eq!(
            Template::parse("\u{0}code {code}"),
            Err(TemplateError::ControlCharacter)
        );
        assert!(Template::parse("line one\nline two\t{code}").is_ok());
    }

    #[test]
    fn variables_and_the_text_are_bounded() {
        let t = Template::parse("Hi {name}.").unwrap();
        let long = "x".repeat(MAX_VARIABLE_CHARS + 1);
        assert_eq!(
            t.render(None, &vars(json!({"name": long}))),
            Err(TemplateError::VariableTooLong("name".into()))
        );
        assert!(t
            .render(None, &vars(json!({"name": "x".repeat(MAX_VARIABLE_CHARS)})))
            .is_ok());
        let many = Template::parse(&"{a}{b}{c}{d}{e}{f}{g}".repeat(2)).unwrap();
        let l = &long[1..];
        let v = json!({"a": l, "b": l, "c": l, "d": l, "e": l, "f": l, "g": l});
        assert_eq!(
            many.render(None, &vars(v)),
            Err(TemplateError::RenderedTooLong)
        );
    }
}
