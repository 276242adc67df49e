//! Parsing and printing of property values with librdkafka's rules and error messages.

use super::{invalid, ConfigError, EnumValue, Property, PropertyType, Validator, Value};

/// C `strtol(s, &end, 0)` on a 64-bit platform: returns the value and whether any digit was read.
pub(super) fn strtol(s: &str) -> (i64, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] as char).is_ascii_whitespace() {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        neg = b[i] == b'-';
        i += 1;
    }
    let mut radix = 10;
    if i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] | 0x20) == b'x'
        && i + 2 < b.len()
        && (b[i + 2] as char).is_ascii_hexdigit()
    {
        radix = 16;
        i += 2;
    } else if i < b.len() && b[i] == b'0' {
        radix = 8;
    }
    let mut any = false;
    let mut acc: i128 = 0;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(radix) else {
            break;
        };
        any = true;
        acc = (acc * radix as i128 + d as i128).min(i64::MAX as i128 + 1);
        i += 1;
    }
    let v = if neg { -acc } else { acc };
    (v.clamp(i64::MIN as i128, i64::MAX as i128) as i64, any)
}

/// C `strtod(s, &end)`: the longest numeric prefix; `None` when there is none.
pub(super) fn strtod(s: &str) -> Option<f64> {
    let t = s.trim_start();
    let lower = t.to_ascii_lowercase();
    for (word, v) in [
        ("infinity", f64::INFINITY),
        ("inf", f64::INFINITY),
        ("nan", f64::NAN),
    ] {
        for (sign, m) in [("", 1.0), ("+", 1.0), ("-", -1.0)] {
            if lower.starts_with(&format!("{sign}{word}")) {
                return Some(m * v);
            }
        }
    }
    // Longest prefix that parses as a float (covers digits, '.', exponent).
    let end = t
        .char_indices()
        .take_while(|(_, c)| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        .map(|(i, c)| i + c.len_utf8())
        .last()
        .unwrap_or(0);
    (1..=end).rev().find_map(|n| t[..n].parse::<f64>().ok())
}

/// C's `%g`: six significant digits, trailing zeros removed, exponent form for large/small values.
pub(crate) fn format_g(v: f64) -> String {
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf".into() } else { "inf".into() };
    }
    let sci = format!("{:.5e}", v);
    let (mant, exp) = sci.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("exponent value");
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if !(-4..6).contains(&exp) {
        format!(
            "{}e{}{:02}",
            strip(mant),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    } else {
        let decimals = (5 - exp).max(0) as usize;
        strip(&format!("{:.*}", decimals, v))
    }
}

fn valid_partitioner(v: &str) -> bool {
    matches!(
        v,
        "random"
            | "consistent"
            | "consistent_random"
            | "murmur2"
            | "murmur2_random"
            | "fnv1a"
            | "fnv1a_random"
    )
}

/// Parses and validates a value for a property, as `rd_kafka_anyconf_set_prop()` does.
/// `value` is `None` for an empty string.
pub(super) fn parse_value(
    prop: &Property,
    value: Option<&str>,
    current: Option<Value>,
) -> Result<Value, ConfigError> {
    let name = prop.name;
    if let Some(f) = prop.requires.filter(|f| !f.is_supported()) {
        return Err(invalid(format!(
            "Configuration property \"{name}\" not supported in this build: {}",
            f.reason()
        )));
    }
    let find = |vals: &[EnumValue], s: &str| -> Option<EnumValue> {
        vals.iter()
            .find(|e| e.name.eq_ignore_ascii_case(s))
            .copied()
    };
    let unsupported_value = |e: &EnumValue, s: &str| -> Option<ConfigError> {
        e.requires.filter(|f| !f.is_supported()).map(|f| {
            invalid(format!(
                "Unsupported value \"{s}\" for configuration property \"{name}\": {}",
                f.reason()
            ))
        })
    };
    match prop.ty {
        PropertyType::String | PropertyType::PatternList => {
            let value = value.map(|v| v.trim_start_matches(|c: char| c.is_ascii_whitespace()));
            let ok = match (prop.validator, value) {
                (Validator::None, _) => true,
                (_, None) => false,
                (Validator::SingleToken, Some(v)) => !v.contains(',') && !v.contains(' '),
                (Validator::Partitioner, Some(v)) => valid_partitioner(v),
                (Validator::BrokerVersion, Some(v)) => {
                    !v.starts_with("0.7.") && !v.starts_with("0.6.")
                }
            };
            if !ok {
                return Err(invalid(format!(
                    "Invalid value for configuration property \"{name}\": {}",
                    value.unwrap_or("(null)")
                )));
            }
            Ok(Value::Text(value.map(str::to_string)))
        }
        PropertyType::Pointer => {
            if prop.hidden {
                Ok(Value::Text(value.map(str::to_string)))
            } else {
                Err(invalid(format!(
                    "Property \"{name}\" must be set through dedicated .._set_..() function"
                )))
            }
        }
        PropertyType::Boolean => {
            let Some(v) = value else {
                return Err(invalid(format!(
                    "Bool configuration property \"{name}\" cannot be set to empty value"
                )));
            };
            if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("t") || v == "1" {
                Ok(Value::Bool(true))
            } else if v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("f") || v == "0" {
                Ok(Value::Bool(false))
            } else {
                Err(invalid(format!(
                    "Expected bool value for \"{name}\": true or false"
                )))
            }
        }
        PropertyType::Integer { min, max, names } => {
            let Some(v) = value else {
                return Err(invalid(format!(
                    "Integer configuration property \"{name}\" cannot be set to empty value"
                )));
            };
            let (n, any) = strtol(v);
            // librdkafka stores strtol()'s long in an int.
            let mut ival = n as i32;
            if !any {
                let Some(e) = find(names, v) else {
                    return Err(invalid(format!(
                        "Invalid value for configuration property \"{name}\""
                    )));
                };
                if let Some(err) = unsupported_value(&e, v) {
                    return Err(err);
                }
                ival = e.value;
            }
            if ival < min || ival > max {
                return Err(invalid(format!(
                    "Configuration property \"{name}\" value {ival} is outside allowed range {min}..{max}\n"
                )));
            }
            Ok(Value::Int(ival))
        }
        PropertyType::Float { min, max } => {
            let Some(v) = value else {
                return Err(invalid(format!(
                    "Float configuration property \"{name}\" cannot be set to empty value"
                )));
            };
            let Some(d) = strtod(v) else {
                return Err(invalid(format!(
                    "Invalid value for configuration property \"{name}\""
                )));
            };
            if d < min || d > max {
                return Err(invalid(format!(
                    "Configuration property \"{name}\" value {} is outside allowed range {}..{}\n",
                    format_g(d),
                    format_g(min),
                    format_g(max)
                )));
            }
            Ok(Value::Float(d))
        }
        PropertyType::Enum(vals) | PropertyType::Flags(vals) => {
            let Some(v) = value else {
                return Err(invalid(format!(
                    "Configuration property \"{name}\" cannot be set to empty value"
                )));
            };
            let flags = matches!(prop.ty, PropertyType::Flags(_));
            let mut bits = match current {
                Some(Value::Flags(b)) => b,
                _ => 0,
            };
            let tokens: Vec<&str> = if flags {
                v.split(',').collect()
            } else {
                vec![v]
            };
            for tok in tokens {
                // librdkafka trims leading whitespace only.
                let mut s = tok.trim_start_matches(|c: char| c.is_ascii_whitespace());
                let mut add = true;
                if flags {
                    if let Some(r) = s.strip_prefix('+') {
                        s = r;
                    } else if let Some(r) = s.strip_prefix('-') {
                        s = r;
                        add = false;
                    }
                }
                if s.is_empty() {
                    continue;
                }
                let Some(e) = find(vals, s) else {
                    return Err(invalid(format!(
                        "Invalid value \"{s}\" for configuration property \"{name}\""
                    )));
                };
                if let Some(err) = unsupported_value(&e, s) {
                    return Err(err);
                }
                if !flags {
                    return Ok(Value::Enum(e.value));
                }
                if add {
                    bits |= e.value;
                } else {
                    bits &= !e.value;
                }
            }
            if flags {
                Ok(Value::Flags(bits))
            } else {
                // Only whitespace: librdkafka accepts it and leaves the value unchanged.
                Ok(current.unwrap_or(Value::Enum(0)))
            }
        }
        PropertyType::Internal => Err(invalid(format!(
            "Internal property \"{name}\" not settable"
        ))),
        PropertyType::Invalid(msg) => Err(invalid(msg.to_string())),
        PropertyType::Alias(_) => unreachable!("aliases are resolved before parsing"),
    }
}
