//! Parameters from the world file's `params` table, with typed getters whose errors
//! say which parameter is wrong and what it should be.

use toml::{Table, Value};

#[derive(Debug, Clone, Default)]
pub struct Params {
    table: Table,
}

impl Params {
    /// Parse TOML text (the engine passes the `params` table as text).
    pub fn parse(text: &str) -> Result<Self, String> {
        let table: Table =
            toml::from_str(text).map_err(|e| format!("params are not valid TOML: {e}"))?;
        Ok(Params { table })
    }

    pub fn from_table(table: Table) -> Self {
        Params { table }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    /// Keys not in `known`: strategies call this to reject typos.
    pub fn unknown_keys(&self, known: &[&str]) -> Result<(), String> {
        let bad: Vec<&str> = self
            .table
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unknown parameter(s) {}; this strategy takes: {}",
                bad.join(", "),
                known.join(", ")
            ))
        }
    }

    pub fn f64_or(&self, key: &str, default: f64) -> Result<f64, String> {
        match self.table.get(key) {
            None => Ok(default),
            Some(Value::Float(x)) if x.is_finite() => Ok(*x),
            Some(Value::Integer(i)) => Ok(*i as f64),
            Some(v) => Err(format!("parameter `{key}` must be a number, got {v}")),
        }
    }

    pub fn u64_or(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.table.get(key) {
            None => Ok(default),
            Some(Value::Integer(i)) if *i >= 0 => Ok(*i as u64),
            Some(v) => Err(format!(
                "parameter `{key}` must be a whole number >= 0, got {v}"
            )),
        }
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.table.get(key) {
            None => Ok(default),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(format!("parameter `{key}` must be true or false, got {v}")),
        }
    }

    pub fn str_or(&self, key: &str, default: &str) -> Result<String, String> {
        match self.table.get(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(format!("parameter `{key}` must be a string, got {v}")),
        }
    }

    /// A list of strings (e.g. nation names); missing means empty.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, String> {
        match self.table.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        format!("parameter `{key}` must be a list of strings, got {v}")
                    })
                })
                .collect(),
            Some(v) => Err(format!(
                "parameter `{key}` must be a list of strings, got {v}"
            )),
        }
    }

    /// A number in [0, 1].
    pub fn fraction_or(&self, key: &str, default: f64) -> Result<f64, String> {
        let x = self.f64_or(key, default)?;
        if (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(format!(
                "parameter `{key}` is {x}; it is a fraction, 0 <= x <= 1"
            ))
        }
    }

    /// A number >= 0.
    pub fn non_negative_or(&self, key: &str, default: f64) -> Result<f64, String> {
        let x = self.f64_or(key, default)?;
        if x >= 0.0 {
            Ok(x)
        } else {
            Err(format!("parameter `{key}` is {x}; it must be >= 0"))
        }
    }

    /// A number > 0.
    pub fn positive_or(&self, key: &str, default: f64) -> Result<f64, String> {
        let x = self.f64_or(key, default)?;
        if x > 0.0 {
            Ok(x)
        } else {
            Err(format!("parameter `{key}` is {x}; it must be > 0"))
        }
    }

    /// A list of strings, or `default` when the key is absent (an empty list stays empty).
    pub fn strings_or(&self, key: &str, default: &[&str]) -> Result<Vec<String>, String> {
        if self.contains(key) {
            self.strings(key)
        } else {
            Ok(default.iter().map(|s| s.to_string()).collect())
        }
    }

    /// A list of markets written `"commodity/stage"`, or `default` when the key is absent.
    pub fn markets_or(&self, key: &str, default: &[&str]) -> Result<Vec<(String, String)>, String> {
        self.strings_or(key, default)?
            .iter()
            .map(|s| match s.split_once('/') {
                Some((c, st)) if !c.is_empty() && !st.is_empty() && !st.contains('/') => Ok((c.to_string(), st.to_string())),
                _ => Err(format!("parameter `{key}`: market `{s}` must be written commodity/stage, e.g. \"rare-earths/oxide\"")),
            })
            .collect()
    }
}
