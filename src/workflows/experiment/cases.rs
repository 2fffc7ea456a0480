//! The case table: the values that fill a template's variables, one case per row.
//!
//! Two formats: CSV with a header row (RFC 4180 quoting, so a value may hold commas,
//! quotes and newlines), and JSONL, one object per line. In JSONL a string is its own
//! value, any other JSON value (number, bool, array, object) is its JSON text, and `null`
//! is no value at all. An `id` column or field names the case in every output; without
//! one a case is known by its 1-based row number.
//!
//! A `.csv` file is CSV and a `.jsonl`, `.ndjson` or `.json` file is JSONL; any other
//! name is JSONL when its first non-blank character is `{`, else CSV.

use std::path::Path;

use serde_json::Value;

/// The column that names a case.
pub const ID: &str = "id";

/// One case: its id, if the table has one, and its values in column order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The `id` value, when there is one.
    pub id: Option<String>,
    /// Every value of the row (the `id` too), in column order.
    pub vars: Vec<(String, String)>,
}

impl Case {
    /// The value of `name`, if the case has one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// How the case is named in messages: `case "id"` or `case 3` (1-based row).
    pub fn label(&self, index: usize) -> String {
        match &self.id {
            Some(id) => format!("case \"{id}\""),
            None => format!("case {}", index + 1),
        }
    }
}

/// Every case of a table, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseTable {
    /// The cases.
    pub cases: Vec<Case>,
}

/// Read the case table in `path`. Errors are one line for people: file, line, what to do.
pub fn load(path: &Path) -> Result<CaseTable, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read the case table: {e}", path.display()))?;
    let shown = path.display().to_string();
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    let table = match ext.as_deref() {
        Some("csv") => parse_csv(&text, &shown)?,
        Some("jsonl" | "ndjson" | "json") => parse_jsonl(&text, &shown)?,
        _ if text.trim_start().starts_with('{') => parse_jsonl(&text, &shown)?,
        _ => parse_csv(&text, &shown)?,
    };
    if table.cases.is_empty() {
        return Err(format!(
            "{shown}: the case table has no cases: add at least one row"
        ));
    }
    Ok(table)
}

/// Parse CSV with a header row; `path` is only used in messages.
pub fn parse_csv(text: &str, path: &str) -> Result<CaseTable, String> {
    parse_csv_with(text, path).map_err(|e| e.in_file(path))
}

/// Parse CSV typed in the workbench: problems are placed by `line:col` in the text
/// (there is no file), and say what to fix. An empty table is no table.
pub fn parse_csv_text(text: &str) -> Result<CaseTable, String> {
    let table = parse_csv_with(text, "").map_err(|e| e.in_text(text))?;
    if table.cases.is_empty() {
        return Err("2:1: no cases: add a row under the header (one case per line)".into());
    }
    Ok(table)
}

/// A CSV problem, before it is placed in a file or in typed text.
struct CsvProblem {
    /// 1-based line, when known.
    line: Option<u64>,
    /// The field the problem starts at (0-based), when it is one field.
    field: Option<usize>,
    /// What happened and what to do.
    what: String,
}

impl CsvProblem {
    fn in_file(self, path: &str) -> String {
        match self.line {
            Some(line) => format!("{path}:{line}: {}", self.what),
            None => format!("{path}: {}", self.what),
        }
    }

    fn in_text(self, text: &str) -> String {
        match self.line {
            Some(line) => {
                let col = self.field.map_or(1, |f| field_column(text, line, f));
                format!("{line}:{col}: {}", self.what)
            }
            None => self.what,
        }
    }
}

/// The 1-based column where field `field` of line `line` starts, honouring quotes.
fn field_column(text: &str, line: u64, field: usize) -> usize {
    let Some(row) = text
        .lines()
        .nth(usize::try_from(line.saturating_sub(1)).unwrap_or(0))
    else {
        return 1;
    };
    let (mut seen, mut quoted) = (0, false);
    for (col, ch) in row.chars().enumerate() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                seen += 1;
                if seen == field {
                    return col + 2;
                }
            }
            _ => {}
        }
    }
    1
}

fn parse_csv_with(text: &str, path: &str) -> Result<CaseTable, CsvProblem> {
    let at = |line: u64, what: String| CsvProblem {
        line: Some(line),
        field: None,
        what,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(at(
            1,
            "no header row: the first line names the columns (e.g. `id,city`)".into(),
        ));
    }
    if let Some((i, _)) = headers.iter().enumerate().find(|(_, h)| h.is_empty()) {
        return Err(CsvProblem {
            field: Some(i),
            ..at(1, format!("column {} has no name in the header row", i + 1))
        });
    }
    if let Some(dup) = headers
        .iter()
        .enumerate()
        .find(|(i, h)| headers[..*i].contains(h))
    {
        return Err(CsvProblem {
            field: Some(dup.0),
            ..at(1, format!("column `{}` appears twice in the header row", dup.1))
        });
    }
    let mut cases = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(&e))?;
        let vars: Vec<(String, String)> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        let id = vars.iter().find(|(k, _)| k == ID).map(|(_, v)| v.clone());
        cases.push(Case { id, vars });
    }
    check_ids(&cases, path).map_err(|what| CsvProblem {
        line: None,
        field: None,
        // The file's name leads the message; typed text has none.
        what: what.trim_start_matches(&format!("{path}: ")[..]).to_string(),
    })?;
    Ok(CaseTable { cases })
}

fn csv_error(e: &csv::Error) -> CsvProblem {
    let line = e.position().map(csv::Position::line);
    let (field, what) = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => (
            (len > expected_len).then_some(*expected_len as usize),
            format!(
                "this row has {len} fields but the header has {expected_len}: quote values that contain commas (\"a, b\")"
            ),
        ),
        csv::ErrorKind::Utf8 { .. } => (None, "not UTF-8 text".to_string()),
        _ => (None, format!("not a CSV table: {e}")),
    };
    CsvProblem { line, field, what }
}

/// Parse JSONL, one object per line (blank lines skipped); `path` is only used in messages.
pub fn parse_jsonl(text: &str, path: &str) -> Result<CaseTable, String> {
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = format!("{path}:{}", i + 1);
        let value: Value = serde_json::from_str(line)
            .map_err(|e| format!("{at}: not a JSON object: {e}; give one object per line"))?;
        let Value::Object(object) = value else {
            return Err(format!(
                "{at}: a case is a JSON object (`{{\"id\": \"a\", \"city\": \"Oslo\"}}`), not {}",
                kind(&value)
            ));
        };
        let mut vars = Vec::new();
        for (k, v) in object {
            let text = match v {
                Value::Null => continue,
                Value::String(s) => s,
                other => other.to_string(),
            };
            vars.push((k, text));
        }
        let id = vars.iter().find(|(k, _)| k == ID).map(|(_, v)| v.clone());
        cases.push(Case { id, vars });
    }
    check_ids(&cases, path)?;
    Ok(CaseTable { cases })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Ids, where given, name one case each: every output row is keyed by them.
fn check_ids(cases: &[Case], path: &str) -> Result<(), String> {
    for (i, c) in cases.iter().enumerate() {
        let Some(id) = &c.id else { continue };
        if id.trim().is_empty() {
            return Err(format!(
                "{path}: case {} has an empty `id`: give it one, or drop the column",
                i + 1
            ));
        }
        if let Some(first) = cases[..i].iter().position(|o| o.id.as_ref() == Some(id)) {
            return Err(format!(
                "{path}: cases {} and {} share the id \"{id}\": ids must be unique",
                first + 1,
                i + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_values_may_hold_quoted_commas_quotes_and_newlines() {
        let t = parse_csv(
            "id,city,question\nosl,\"Oslo, Norway\",\"Is it \"\"cold\"\"?\"\nber,Berlin,\"two\nlines\"\n",
            "cases.csv",
        )
        .unwrap();
        assert_eq!(t.cases.len(), 2);
        assert_eq!(t.cases[0].id.as_deref(), Some("osl"));
        assert_eq!(t.cases[0].get("city"), Some("Oslo, Norway"));
        assert_eq!(t.cases[0].get("question"), Some("Is it \"cold\"?"));
        assert_eq!(t.cases[1].get("question"), Some("two\nlines"));
        assert_eq!(t.cases[1].label(1), "case \"ber\"");
    }

    #[test]
    fn without_an_id_column_cases_are_numbered_from_one() {
        let t = parse_csv("city\nOslo\nBerlin\n", "c.csv").unwrap();
        assert_eq!(t.cases[1].id, None);
        assert_eq!(t.cases[1].label(1), "case 2");
        // An empty cell is an empty value, not a missing one.
        let t = parse_csv("a,b\n1,\n", "c.csv").unwrap();
        assert_eq!(t.cases[0].get("b"), Some(""));
    }

    #[test]
    fn csv_problems_name_the_file_and_line() {
        let e = parse_csv("id,city\na,Oslo, Norway\n", "c.csv").unwrap_err();
        assert!(
            e.starts_with("c.csv:2: this row has 3 fields but the header has 2"),
            "{e}"
        );
        let e = parse_csv("id,id\n1,2\n", "c.csv").unwrap_err();
        assert!(e.contains("column `id` appears twice"), "{e}");
        let e = parse_csv("id,city\na,x\na,y\n", "c.csv").unwrap_err();
        assert_eq!(e, "c.csv: cases 1 and 2 share the id \"a\": ids must be unique");
        let e = parse_csv("a,,b\n1,2,3\n", "c.csv").unwrap_err();
        assert!(e.contains("column 2 has no name"), "{e}");
    }

    #[test]
    fn typed_csv_places_problems_by_line_and_column() {
        let t = parse_csv_text("id,city\na,Oslo\n").unwrap();
        assert_eq!(t.cases[0].get("city"), Some("Oslo"));
        let e = parse_csv_text("id,city\na,\"Oslo, N\",x\n").unwrap_err();
        assert!(
            e.starts_with("2:13: this row has 3 fields but the header has 2"),
            "{e}"
        );
        let e = parse_csv_text("id,id\n1,2\n").unwrap_err();
        assert!(e.starts_with("1:4: column `id` appears twice"), "{e}");
        let e = parse_csv_text("id,city\na,x\na,y\n").unwrap_err();
        assert_eq!(e, "cases 1 and 2 share the id \"a\": ids must be unique");
        assert!(
            parse_csv_text("id,city\n")
                .unwrap_err()
                .starts_with("2:1: no cases")
        );
    }

    #[test]
    fn jsonl_strings_are_values_other_json_is_its_text_and_null_is_missing() {
        let t = parse_jsonl(
            "{\"id\": 7, \"city\": \"Oslo\", \"n\": 3, \"hot\": false, \"x\": null, \"list\": [1,\"a\"]}\n\n{\"city\": \"Berlin\"}\n",
            "c.jsonl",
        )
        .unwrap();
        let c = &t.cases[0];
        assert_eq!(c.id.as_deref(), Some("7"));
        assert_eq!(c.get("n"), Some("3"));
        assert_eq!(c.get("hot"), Some("false"));
        assert_eq!(c.get("x"), None);
        assert_eq!(c.get("list"), Some("[1,\"a\"]"));
        assert_eq!(t.cases[1].id, None);
        let e = parse_jsonl("{\"a\": 1}\n[1]\n", "c.jsonl").unwrap_err();
        assert!(e.starts_with("c.jsonl:2: a case is a JSON object"), "{e}");
        let e = parse_jsonl("{\"a\": 1\n", "c.jsonl").unwrap_err();
        assert!(e.starts_with("c.jsonl:1: not a JSON object"), "{e}");
    }

    #[test]
    fn the_format_follows_the_extension_then_the_content() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("cases.txt");
        std::fs::write(&csv, "city\nOslo\n").unwrap();
        assert_eq!(load(&csv).unwrap().cases[0].get("city"), Some("Oslo"));
        let jsonl = dir.path().join("cases.data");
        std::fs::write(&jsonl, "{\"city\": \"Oslo\"}\n").unwrap();
        assert_eq!(load(&jsonl).unwrap().cases[0].get("city"), Some("Oslo"));
        let empty = dir.path().join("empty.csv");
        std::fs::write(&empty, "city\n").unwrap();
        assert!(load(&empty).unwrap_err().contains("has no cases"));
        let missing = dir.path().join("nope.csv");
        assert!(load(&missing).unwrap_err().contains("cannot read the case table"));
    }
}
