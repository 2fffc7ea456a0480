//! Prompt templates: `{{name}}` (spaces allowed inside the braces, `{{ name }}`) is
//! replaced by the case's value for `name`; `\{{` writes a literal `{{`. Everything else
//! is copied as written, including a lone `{`, `}` or `\`.
//!
//! A template is parsed once, so a malformed one (an unclosed `{{`, an empty name) is
//! reported before anything is sent, and rendering only has to look values up.

use std::fmt;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text copied as is.
    Text(String),
    /// A variable to fill.
    Var(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pieces: Vec<Piece>,
}

/// Why a template cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` with no `}}` after it; the offset (in characters) of the `{{`.
    Unclosed(usize),
    /// `{{}}` or `{{   }}`; the offset (in characters) of the `{{`.
    EmptyName(usize),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unclosed(at) => write!(
                f,
                "`{{{{` at character {} has no closing `}}}}`; write `\\{{{{` for a literal `{{{{`",
                at + 1
            ),
            Self::EmptyName(at) => write!(
                f,
                "`{{{{}}}}` at character {} names no variable; write `\\{{{{` for a literal `{{{{`",
                at + 1
            ),
        }
    }
}

impl Template {
    /// Parse `text`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        // Character offset of `rest` in `text`, for messages.
        let mut offset = 0usize;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("\\{{") {
                literal.push_str("{{");
                rest = after;
                offset += 3;
                continue;
            }
            if let Some(after) = rest.strip_prefix("{{") {
                let Some(close) = after.find("}}") else {
                    return Err(TemplateError::Unclosed(offset));
                };
                let name = after[..close].trim();
                if name.is_empty() {
                    return Err(TemplateError::EmptyName(offset));
                }
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                pieces.push(Piece::Var(name.to_string()));
                offset += 2 + after[..close].chars().count() + 2;
                rest = &after[close + 2..];
                continue;
            }
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                literal.push(c);
            }
            rest = chars.as_str();
            offset += 1;
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Self { pieces })
    }

    /// `text` as one literal piece: nothing in it is special.
    pub fn literal(text: &str) -> Self {
        Self {
            pieces: vec![Piece::Text(text.to_string())],
        }
    }

    /// The variable names it uses, in order of first use, each once.
    pub fn variables(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Var(name) = p
                && !names.contains(&name.as_str())
            {
                names.push(name);
            }
        }
        names
    }

    /// Whether it uses any variable.
    pub fn has_variables(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Var(_)))
    }

    /// The text with every variable replaced by `value(name)`; the first name with no
    /// value is the error.
    pub fn render<'v>(&self, value: impl Fn(&str) -> Option<&'v str>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(name) => out.push_str(value(name).ok_or_else(|| name.clone())?),
            }
        }
        Ok(out)
    }

    /// The text with no variables filled: escapes resolved, `{{name}}` written back as is.
    /// What a prompt sent without a case table would look like, were it a template.
    pub fn as_written(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var(name) => {
                    out.push_str("{{");
                    out.push_str(name);
                    out.push_str("}}");
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(template: &str, vars: &[(&str, &str)]) -> Result<String, String> {
        let t = Template::parse(template).map_err(|e| e.to_string())?;
        t.render(|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| *v))
            .map_err(|missing| format!("missing {missing}"))
    }

    #[test]
    fn variables_are_filled_with_or_without_spaces_inside_the_braces() {
        let vars = [("city", "Oslo"), ("first name", "Ada")];
        assert_eq!(
            fill("Weather in {{city}}, {{ city }}!", &vars).unwrap(),
            "Weather in Oslo, Oslo!"
        );
        assert_eq!(fill("Hi {{  first name  }}.", &vars).unwrap(), "Hi Ada.");
        assert_eq!(fill("no variables", &vars).unwrap(), "no variables");
        assert_eq!(fill("", &vars).unwrap(), "");
        // Values are inserted as is: braces in a value are not expanded again.
        assert_eq!(fill("{{v}}", &[("v", "{{city}}")]).unwrap(), "{{city}}");
        assert_eq!(fill("é{{v}}ü", &[("v", "ß")]).unwrap(), "éßü");
    }

    #[test]
    fn a_backslash_before_double_braces_writes_them_literally() {
        assert_eq!(
            fill(r"Jinja writes \{{ x }} for {{v}}", &[("v", "output")]).unwrap(),
            "Jinja writes {{ x }} for output"
        );
        // Lone braces and backslashes are plain text.
        assert_eq!(fill(r"a { b } c \ d \{ e", &[]).unwrap(), r"a { b } c \ d \{ e");
        let t = Template::parse(r"\{{x}}").unwrap();
        assert!(!t.has_variables());
    }

    #[test]
    fn a_missing_value_names_the_variable() {
        assert_eq!(fill("{{a}} and {{ b }}", &[("a", "1")]).unwrap_err(), "missing b");
        let t = Template::parse("{{b}}{{a}}{{b}}").unwrap();
        assert_eq!(t.variables(), ["b", "a"]);
    }

    #[test]
    fn malformed_templates_say_where_and_how_to_escape() {
        let e = Template::parse("ok {{name").unwrap_err();
        assert_eq!(e, TemplateError::Unclosed(3));
        assert!(e.to_string().contains("character 4"), "{e}");
        assert!(e.to_string().contains(r"\{{"), "{e}");
        assert_eq!(
            Template::parse("é{{ }}").unwrap_err(),
            TemplateError::EmptyName(1)
        );
    }

    #[test]
    fn as_written_keeps_variables_and_resolves_escapes() {
        let t = Template::parse(r"{{ a }} \{{b}}").unwrap();
        assert_eq!(t.as_written(), "{{a}} {{b}}");
    }
}
