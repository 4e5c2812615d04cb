//! Parameter paths: one address for any value in a world file, so a sweep can vary
//! whatever a world author can write, without the batch runner knowing the schema.
//!
//! A path walks the world's TOML document. Segments are separated by dots; a segment
//! is a key of a table, or picks one element of an array of tables either by its `name`
//! (`nation.China`, `firm."Australia rare-earths mined"`) or by its position (`demand.0` or
//! `demand[0]`). Quote a segment that contains a dot. Plural forms of array names
//! (`nations`, `firms`, `commodities`) are accepted. Examples:
//!
//! - `nation.China.params.escalate_every` (a strategy parameter)
//! - `nation."United States".strategy` (which strategy a nation plays)
//! - `firm."Australia rare-earths mined".capacity_tpy`
//! - `commodity.gallium.stage.refined.reference_price_usd_per_t`
//! - `nation.Japan.demand[1].elasticity`
//!
//! Every step is checked against the base world; an unknown key or name is an error
//! that names the step and suggests the nearest existing spelling. Strategy parameters
//! are open-ended (each strategy documents its own), so a key under `params` may be
//! new, as may `params` itself on a nation that has a strategy; the strategy then
//! checks the value when it is created. Setting a nation's `strategy` to another
//! strategy drops that nation's `params`, which belonged to the old one, unless the
//! same run also sets them.

use std::fmt;

use toml::Value;

/// One parsed segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A parsed parameter path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ParamPath {
    pub text: String,
    pub segs: Vec<Seg>,
}

impl fmt::Display for ParamPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A path that does not lead to a value of the base world.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    #[error("parameter path `{path}`: cannot parse it: {why}")]
    Syntax { path: String, why: String },
    #[error(
        "parameter path `{path}`: `{at}` has no key `{key}`{}; its keys are: {}",
        hint(suggestion),
        known.join(", ")
    )]
    UnknownKey {
        path: String,
        at: String,
        key: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error(
        "parameter path `{path}`: no element of `{at}` is named `{name}`{}; names are: {}",
        hint(suggestion),
        known.join(", ")
    )]
    UnknownName {
        path: String,
        at: String,
        name: String,
        suggestion: Option<String>,
        known: Vec<String>,
    },
    #[error("parameter path `{path}`: `{at}` has {len} elements, index {index} is out of range")]
    OutOfRange {
        path: String,
        at: String,
        index: usize,
        len: usize,
    },
    #[error(
        "parameter path `{path}`: `{at}` is a {found}, not a table or array; the path goes past a value"
    )]
    NotContainer {
        path: String,
        at: String,
        found: &'static str,
    },
    #[error(
        "parameter path `{path}`: leads to a {found}; give a single value (a number, string or boolean) to vary"
    )]
    NotScalar { path: String, found: &'static str },
    #[error(
        "parameter path `{path}`: the world has a {expected} there, the value `{value}` is a {found}"
    )]
    WrongType {
        path: String,
        expected: &'static str,
        found: &'static str,
        value: String,
    },
}

fn hint(s: &Option<String>) -> String {
    match s {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

impl ParamPath {
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let err = |why: &str| PathError::Syntax {
            path: text.to_string(),
            why: why.to_string(),
        };
        let mut segs = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            let mut seg = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) => seg.push(c),
                        None => return Err(err("a quoted segment is not closed")),
                    }
                }
                segs.push(Seg::Key(seg));
            } else {
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    seg.push(c);
                    chars.next();
                }
                let seg = seg.trim();
                if seg.is_empty() {
                    return Err(err("an empty segment (two dots, or a dot at an end)"));
                }
                segs.push(match seg.parse::<usize>() {
                    Ok(i) => Seg::Index(i),
                    Err(_) => Seg::Key(seg.to_string()),
                });
            }
            while chars.peek() == Some(&'[') {
                chars.next();
                let mut num = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(c) => num.push(c),
                        None => return Err(err("`[` without `]`")),
                    }
                }
                let i = num
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| err("an index in [...] must be a whole number"))?;
                segs.push(Seg::Index(i));
            }
            match chars.next() {
                None => break,
                Some('.') => continue,
                Some(c) => return Err(err(&format!("unexpected `{c}` after a segment"))),
            }
        }
        Ok(ParamPath {
            text: text.to_string(),
            segs,
        })
    }

    /// Check the path against `doc` and return the value it names there (None: a new
    /// strategy parameter).
    pub fn resolve<'a>(&self, doc: &'a toml::Table) -> Result<Option<&'a Value>, PathError> {
        let mut cur: Option<&Value> = None;
        let mut table: Option<&toml::Table> = Some(doc);
        let mut at = String::from("(world)");
        let mut parent_key: Option<String> = None;
        let mut parent_has_strategy = false;
        for (i, seg) in self.segs.iter().enumerate() {
            let last = i + 1 == self.segs.len();
            let next = match (table, cur) {
                (Some(t), _) => {
                    let key = match seg {
                        Seg::Key(k) => k.clone(),
                        Seg::Index(n) => n.to_string(),
                    };
                    match find_key(t, &key) {
                        Some(k) => t.get(&k),
                        None => {
                            let new_param = parent_key.as_deref() == Some("params") && last;
                            let new_params =
                                key == "params" && parent_has_strategy && i + 2 == self.segs.len();
                            let new_strategy = key == "strategy" && t.contains_key("name") && last;
                            if new_param || new_strategy {
                                return Ok(None);
                            }
                            if new_params {
                                return Ok(None);
                            }
                            let known: Vec<String> = t.keys().cloned().collect();
                            return Err(PathError::UnknownKey {
                                path: self.text.clone(),
                                at,
                                suggestion: nearest(&key, &known),
                                key,
                                known,
                            });
                        }
                    }
                }
                (None, Some(Value::Array(a))) => Some(self.pick(a, seg, &at)?),
                (None, Some(v)) => {
                    return Err(PathError::NotContainer {
                        path: self.text.clone(),
                        at,
                        found: type_name(v),
                    });
                }
                (None, None) => unreachable!("the walk always has a table or a value"),
            };
            let v = next.expect("found above");
            at = if at == "(world)" {
                seg_text(seg)
            } else {
                format!("{at}.{}", seg_text(seg))
            };
            parent_key = match seg {
                Seg::Key(k) => Some(k.clone()),
                Seg::Index(_) => None,
            };
            cur = Some(v);
            table = match v {
                Value::Table(t) => {
                    parent_has_strategy = t.contains_key("strategy");
                    Some(t)
                }
                _ => None,
            };
        }
        match cur {
            Some(v @ (Value::Table(_) | Value::Array(_))) => Err(PathError::NotScalar {
                path: self.text.clone(),
                found: type_name(v),
            }),
            other => Ok(other),
        }
    }

    fn pick<'a>(&self, a: &'a [Value], seg: &Seg, at: &str) -> Result<&'a Value, PathError> {
        match seg {
            Seg::Index(i) => a.get(*i).ok_or_else(|| PathError::OutOfRange {
                path: self.text.clone(),
                at: at.to_string(),
                index: *i,
                len: a.len(),
            }),
            Seg::Key(name) => {
                let names: Vec<String> = a
                    .iter()
                    .filter_map(|v| v.get("name").and_then(|n| n.as_str()).map(String::from))
                    .collect();
                a.iter()
                    .find(|v| v.get("name").and_then(|n| n.as_str()) == Some(name.as_str()))
                    .ok_or_else(|| PathError::UnknownName {
                        path: self.text.clone(),
                        at: at.to_string(),
                        name: name.clone(),
                        suggestion: nearest(name, &names),
                        known: names,
                    })
            }
        }
    }

    /// Set the value at the path in `doc` (already checked with [`ParamPath::resolve`]),
    /// converting an integer to a float where the world has a float.
    pub fn set(&self, doc: &mut toml::Table, value: &Value) -> Result<(), PathError> {
        let existing = self.resolve(doc)?.cloned();
        let value = conform(self, existing.as_ref(), value)?;
        let mut table: &mut toml::Table = doc;
        let mut i = 0;
        loop {
            let seg = &self.segs[i];
            let last = i + 1 == self.segs.len();
            let key = match seg {
                Seg::Key(k) => find_key(table, k).unwrap_or_else(|| k.clone()),
                Seg::Index(n) => n.to_string(),
            };
            if last {
                table.insert(key, value);
                return Ok(());
            }
            let entry = table
                .entry(key)
                .or_insert_with(|| Value::Table(toml::Table::new()));
            i += 1;
            let mut v = entry;
            // Descend through arrays until the next table.
            while let Value::Array(a) = v {
                let seg = &self.segs[i];
                let idx = match seg {
                    Seg::Index(n) => *n,
                    Seg::Key(name) => a
                        .iter()
                        .position(|e| e.get("name").and_then(|n| n.as_str()) == Some(name))
                        .expect("resolve checked the name"),
                };
                v = &mut a[idx];
                i += 1;
                if i == self.segs.len() {
                    *v = value;
                    return Ok(());
                }
            }
            table = match v {
                Value::Table(t) => t,
                _ => unreachable!("resolve checked the path goes through tables"),
            };
        }
    }

    /// The element of `nation` this path is the `strategy` key of, if it is one.
    pub fn strategy_of(&self) -> Option<&Seg> {
        match self.segs.as_slice() {
            [Seg::Key(n), who, Seg::Key(k)] if is_nation(n) && k == "strategy" => Some(who),
            _ => None,
        }
    }

    /// Whether this path is at or under the `params` of the nation `who`.
    pub fn is_params_of(&self, who: &Seg) -> bool {
        matches!(self.segs.as_slice(), [Seg::Key(n), w, Seg::Key(p), ..] if is_nation(n) && w == who && p == "params")
    }
}

fn is_nation(s: &str) -> bool {
    s == "nation" || s == "nations"
}

fn seg_text(s: &Seg) -> String {
    match s {
        Seg::Key(k) if k.contains('.') || k.contains(' ') => format!("\"{k}\""),
        Seg::Key(k) => k.clone(),
        Seg::Index(i) => i.to_string(),
    }
}

/// The key as spelled in the table: exact, or the singular of a plural.
fn find_key(t: &toml::Table, key: &str) -> Option<String> {
    if t.contains_key(key) {
        return Some(key.to_string());
    }
    let singular = if let Some(s) = key.strip_suffix("ies") {
        format!("{s}y")
    } else {
        key.strip_suffix('s')?.to_string()
    };
    t.contains_key(&singular).then_some(singular)
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Integer(_) => "integer",
        Value::Float(_) => "float",
        Value::Boolean(_) => "boolean",
        Value::Datetime(_) => "datetime",
        Value::Array(_) => "array",
        Value::Table(_) => "table",
    }
}

fn conform(path: &ParamPath, existing: Option<&Value>, value: &Value) -> Result<Value, PathError> {
    let wrong = |expected| PathError::WrongType {
        path: path.text.clone(),
        expected,
        found: type_name(value),
        value: value.to_string(),
    };
    Ok(match (existing, value) {
        (None, v) => v.clone(),
        (Some(Value::Float(_)), Value::Integer(i)) => Value::Float(*i as f64),
        (Some(Value::Integer(_)), Value::Float(f)) if f.fract() == 0.0 => Value::Integer(*f as i64),
        (Some(e), v) if std::mem::discriminant(e) == std::mem::discriminant(v) => v.clone(),
        (Some(e), _) => return Err(wrong(type_name(e))),
    })
}

/// The known spelling closest to `word` by edit distance, if close enough to be a typo.
pub fn nearest(word: &str, known: &[String]) -> Option<String> {
    let w = word.to_lowercase();
    known
        .iter()
        .map(|k| (levenshtein(&w, &k.to_lowercase()), k))
        .filter(|(d, k)| *d <= (k.chars().count() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> toml::Table {
        toml::from_str(
            r#"
            [world]
            name = "w"
            [[nation]]
            name = "China"
            strategy = "china-controls"
            params = { escalate_every = 3 }
            demand = [{ elasticity = 0.2 }, { elasticity = 0.1 }]
            [[nation]]
            name = "United States"
            strategy = "us-coalition"
            [[nation]]
            name = "Japan"
            [[firm]]
            name = "Lynas Mt Weld"
            capacity_tpy = 34000.0
            "#,
        )
        .unwrap()
    }

    fn set(path: &str, v: Value) -> Result<toml::Table, PathError> {
        let mut d = doc();
        ParamPath::parse(path)?.set(&mut d, &v)?;
        Ok(d)
    }

    #[test]
    fn reaches_strategy_parameters_firms_and_inline_arrays() {
        let d = set("nation.China.params.escalate_every", Value::Integer(6)).unwrap();
        assert_eq!(
            d["nation"][0]["params"]["escalate_every"].as_integer(),
            Some(6)
        );
        let d = set(
            "firms.\"Lynas Mt Weld\".capacity_tpy",
            Value::Integer(50000),
        )
        .unwrap();
        assert_eq!(d["firm"][0]["capacity_tpy"].as_float(), Some(50000.0));
        let d = set("nation.China.demand[1].elasticity", Value::Float(0.3)).unwrap();
        assert_eq!(
            d["nation"][0]["demand"][1]["elasticity"].as_float(),
            Some(0.3)
        );
        let d = set("nation.China.demand.0.elasticity", Value::Float(0.4)).unwrap();
        assert_eq!(
            d["nation"][0]["demand"][0]["elasticity"].as_float(),
            Some(0.4)
        );
        // A new parameter of a strategy without params.
        let d = set("nation.United States.params.floor", Value::Float(1.0)).unwrap();
        assert_eq!(d["nation"][1]["params"]["floor"].as_float(), Some(1.0));
        let d = set("nation.Japan.strategy", Value::String("passive".into())).unwrap();
        assert_eq!(d["nation"][2]["strategy"].as_str(), Some("passive"));
    }

    #[test]
    fn unknown_steps_are_named_with_a_suggestion() {
        match set("nation.Chian.params.escalate_every", Value::Integer(1)) {
            Err(PathError::UnknownName {
                name, suggestion, ..
            }) => {
                assert_eq!(name, "Chian");
                assert_eq!(suggestion.as_deref(), Some("China"));
            }
            other => panic!("{other:?}"),
        }
        match set("firm.\"Lynas Mt Weld\".capacity", Value::Integer(1)) {
            Err(e @ PathError::UnknownKey { .. }) => {
                assert!(e.to_string().contains("did you mean `capacity_tpy`"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        // A new key under a nation without a strategy is not a strategy parameter.
        assert!(matches!(
            set("nation.Japan.params.x", Value::Integer(1)),
            Err(PathError::UnknownKey { .. })
        ));
        assert!(matches!(
            set("nation.China.demand[5].elasticity", Value::Float(0.1)),
            Err(PathError::OutOfRange { len: 2, .. })
        ));
        assert!(matches!(
            set("nation.China.demand", Value::Float(0.1)),
            Err(PathError::NotScalar { .. })
        ));
        assert!(matches!(
            set("firm.0.capacity_tpy", Value::String("x".into())),
            Err(PathError::WrongType { .. })
        ));
        assert!(matches!(
            ParamPath::parse("nation..x"),
            Err(PathError::Syntax { .. })
        ));
    }
}
