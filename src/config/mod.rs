//! Client configuration with librdkafka's property names, types, ranges, defaults and aliases.
//!
//! [`ClientConfig`] is the one configuration object behind `Consumer`, `Producer` and the C ABI's
//! `rd_kafka_conf_t` / `rd_kafka_topic_conf_t`. Setting a property validates the value the way
//! `rd_kafka_conf_set()` does and fails with librdkafka's error text; reading one returns the value
//! as `rd_kafka_conf_get()` prints it. The property table is in [`properties`].

use std::collections::BTreeMap;

use crate::error::{ErrorCode, KafkaError};

mod finalize;
mod parse;
pub mod properties;
mod settings;

pub(crate) use parse::format_g;
use parse::parse_value;

pub use properties::PROPERTIES;
#[allow(unused_imports)]
pub(crate) use settings::{
    AutoOffsetReset, CompressionCodec, ConsumerSettings, IsolationLevel, ProducerSettings,
};

/// Whether a property belongs to the client (global) or to a topic configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A client property (`rd_kafka_conf_t`).
    Global,
    /// A topic property (`rd_kafka_topic_conf_t`, or the default topic configuration).
    Topic,
}

/// Which kind of client reads a property (librdkafka's `C/P` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Consumer only (`C`).
    Consumer,
    /// Producer only (`P`).
    Producer,
    /// Both (`*`).
    Both,
}

/// librdkafka's importance rating of a property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Importance {
    /// Rarely changed.
    Low,
    /// Sometimes tuned.
    Medium,
    /// Usually set by applications.
    High,
}

/// An optional capability that a property or an enumeration value depends on. None of these is
/// built into librskafka yet, so such properties and values are refused when set, as a librdkafka
/// built without the capability refuses them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// TLS (librdkafka: OpenSSL).
    Ssl,
    /// SASL/GSSAPI (Kerberos).
    Gssapi,
    /// OAuth/OIDC token retrieval over HTTP(S).
    Oidc,
    /// Dynamically loaded plugins.
    Plugins,
    /// A Windows-only property.
    Windows,
}

impl Feature {
    /// Whether this build supports the capability.
    pub fn is_supported(self) -> bool {
        false
    }

    /// Why the capability is missing, as appended to librdkafka's "not supported in this build"
    /// message.
    pub fn reason(self) -> &'static str {
        match self {
            Feature::Ssl => "TLS is not implemented by librskafka",
            Feature::Gssapi => "SASL/GSSAPI is not implemented by librskafka",
            Feature::Oidc => "OAuth/OIDC over HTTP is not implemented by librskafka",
            Feature::Plugins => "plugins are not supported by librskafka",
            Feature::Windows => "configuration only valid on Windows",
        }
    }
}

/// One named value of an enumeration, flag set or integer property.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EnumValue {
    /// The name, matched case-insensitively.
    pub name: &'static str,
    /// The value: names with equal values are synonyms; for flags, a bit mask.
    pub value: i32,
    /// A capability the value needs, if any.
    pub requires: Option<Feature>,
}

/// The type of a property's value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PropertyType {
    /// Free text.
    String,
    /// A 32-bit integer within `min..=max`; `names` are accepted as symbolic values (`acks=all`).
    Integer {
        /// Smallest allowed value.
        min: i32,
        /// Largest allowed value.
        max: i32,
        /// Symbolic names for values.
        names: &'static [EnumValue],
    },
    /// A floating-point number within `min..=max`.
    Float {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// `true`/`false` (also `t`/`f`/`1`/`0`).
    Boolean,
    /// One of a fixed set of names.
    Enum(&'static [EnumValue]),
    /// A comma-separated set of flags; `+name` adds and `-name` removes a flag.
    Flags(&'static [EnumValue]),
    /// A comma-separated list of regular expressions.
    PatternList,
    /// A callback or pointer, settable only through a dedicated C function.
    Pointer,
    /// Another name for the property named here.
    Alias(&'static str),
    /// Internal; not settable.
    Internal,
    /// A known property of other Kafka clients that librdkafka refuses with this message.
    Invalid(&'static str),
}

/// Extra validation of a string property's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// No extra validation.
    None,
    /// A single token without commas or spaces.
    SingleToken,
    /// One of the built-in partitioner names.
    Partitioner,
    /// A broker version that is not one of the unsupported 0.6/0.7 versions.
    BrokerVersion,
}

/// One configuration property.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Property {
    /// The property's name.
    pub name: &'static str,
    /// Client or topic property.
    pub scope: Scope,
    /// Consumer, producer or both.
    pub role: Role,
    /// The value type, with range or allowed values.
    pub ty: PropertyType,
    /// The default value as `rd_kafka_conf_get()` prints it; `None` if there is none.
    pub default: Option<&'static str>,
    /// librdkafka's importance rating.
    pub importance: Importance,
    /// Deprecated in librdkafka.
    pub deprecated: bool,
    /// Experimental in librdkafka.
    pub experimental: bool,
    /// Not listed in librdkafka's documentation (but settable).
    pub hidden: bool,
    /// Holds a secret.
    pub sensitive: bool,
    /// A capability the property needs.
    pub requires: Option<Feature>,
    /// Extra validation for strings.
    pub validator: Validator,
    /// Whether librskafka's engine reads this property (through `ConsumerSettings` or
    /// `ProducerSettings`). Other properties are accepted and stored but have no effect yet.
    pub acted_on: bool,
}

/// The result codes of `rd_kafka_conf_set()` (`rd_kafka_conf_res_t`).
pub mod conf_res {
    /// Unknown property.
    pub const UNKNOWN: i32 = -2;
    /// Invalid value.
    pub const INVALID: i32 = -1;
    /// Success.
    pub const OK: i32 = 0;
}

/// A configuration error, carrying librdkafka's error text.
///
/// The text is exactly what librdkafka writes to `errstr` (a few of its messages end in a newline);
/// `Display` shows it without trailing whitespace.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// No property of that name (`RD_KAFKA_CONF_UNKNOWN`).
    #[error("{}", .0.trim_end())]
    Unknown(String),
    /// The value is not valid for the property, or properties conflict (`RD_KAFKA_CONF_INVALID`).
    #[error("{}", .0.trim_end())]
    Invalid(String),
}

impl ConfigError {
    /// The `rd_kafka_conf_res_t` value: -2 unknown, -1 invalid.
    pub fn code(&self) -> i32 {
        match self {
            ConfigError::Unknown(_) => conf_res::UNKNOWN,
            ConfigError::Invalid(_) => conf_res::INVALID,
        }
    }

    /// The message exactly as librdkafka writes it to `errstr`.
    pub fn errstr(&self) -> &str {
        match self {
            ConfigError::Unknown(s) | ConfigError::Invalid(s) => s,
        }
    }
}

impl From<ConfigError> for KafkaError {
    fn from(e: ConfigError) -> Self {
        KafkaError::new(ErrorCode::L_INVALID_ARG, e.to_string())
    }
}

fn invalid(msg: String) -> ConfigError {
    ConfigError::Invalid(msg)
}

/// A stored value.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    /// A string; `None` is "no value".
    Text(Option<String>),
    Int(i32),
    Float(f64),
    Bool(bool),
    /// Enumeration value (index-free: the `EnumValue::value`).
    Enum(i32),
    Flags(i32),
}

#[derive(Clone, Debug, PartialEq)]
struct Stored {
    value: Value,
    /// Set by the application (as opposed to defaulted or auto-adjusted).
    modified: bool,
}

/// Finds a property by name within a scope, following aliases.
pub fn find_property(scope: Scope, name: &str) -> Option<&'static Property> {
    find_index(scope, name).map(|i| &PROPERTIES[i])
}

fn find_index(scope: Scope, name: &str) -> Option<usize> {
    let mut name = name;
    // Aliases never chain more than once in librdkafka's table; bound the walk anyway.
    for _ in 0..4 {
        let i = PROPERTIES
            .iter()
            .position(|p| p.scope == scope && p.name == name)?;
        match PROPERTIES[i].ty {
            PropertyType::Alias(target) => name = target,
            _ => return Some(i),
        }
    }
    None
}

impl Property {
    fn enum_values(&self) -> &'static [EnumValue] {
        match self.ty {
            PropertyType::Enum(v) | PropertyType::Flags(v) => v,
            PropertyType::Integer { names, .. } => names,
            _ => &[],
        }
    }

    /// The default as a stored value.
    fn default_value(&self) -> Option<Value> {
        let d = self.default?;
        Some(match self.ty {
            PropertyType::Integer { .. } => Value::Int(d.parse().expect("integer default")),
            PropertyType::Float { .. } => Value::Float(d.parse().expect("float default")),
            PropertyType::Boolean => Value::Bool(d == "true"),
            PropertyType::Enum(vals) => Value::Enum(
                vals.iter()
                    .find(|e| e.name == d)
                    .expect("enum default")
                    .value,
            ),
            PropertyType::Flags(vals) => Value::Flags(
                d.split(',')
                    .filter_map(|n| vals.iter().find(|e| e.name == n))
                    .fold(0, |acc, e| acc | e.value),
            ),
            _ => Value::Text(Some(d.to_string())),
        })
    }

    /// Prints a value as `rd_kafka_conf_get()` does; `None` when there is nothing to print.
    fn print(&self, v: &Value) -> Option<String> {
        match v {
            Value::Text(s) => s.clone(),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(format_g(*f)),
            Value::Bool(b) => Some(b.to_string()),
            Value::Enum(x) => self
                .enum_values()
                .iter()
                .find(|e| e.value == *x)
                .map(|e| e.name.to_string()),
            Value::Flags(bits) => {
                let names: Vec<&str> = self
                    .enum_values()
                    .iter()
                    .filter(|e| bits & e.value == e.value)
                    .filter(|e| !matches!(e.requires, Some(f) if !f.is_supported()))
                    .map(|e| e.name)
                    .collect();
                if names.is_empty() {
                    None
                } else {
                    Some(names.join(","))
                }
            }
        }
    }
}

/// A set of librdkafka configuration properties: a client configuration with its default topic
/// configuration, or (from [`ClientConfig::new_topic`]) a topic configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    scope: Scope,
    /// Values that differ from the table's defaults, by index into [`PROPERTIES`].
    values: BTreeMap<usize, Stored>,
    /// The default topic configuration, created when a topic property is first set on a client
    /// configuration (as librdkafka does).
    default_topic: Option<Box<ClientConfig>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new()
    }
}

impl ClientConfig {
    /// An empty client configuration: every property at its default (`rd_kafka_conf_new()`).
    pub fn new() -> Self {
        ClientConfig {
            scope: Scope::Global,
            values: BTreeMap::new(),
            default_topic: None,
        }
    }

    /// An empty topic configuration (`rd_kafka_topic_conf_new()`).
    pub fn new_topic() -> Self {
        ClientConfig {
            scope: Scope::Topic,
            values: BTreeMap::new(),
            default_topic: None,
        }
    }

    /// Whether this is a client or a topic configuration.
    pub fn scope(&self) -> Scope {
        self.scope
    }

    /// Sets a property, validating it like `rd_kafka_conf_set()` (or `rd_kafka_topic_conf_set()`
    /// for a topic configuration). Aliases set their canonical property. On a client configuration,
    /// a name that is not a client property is tried as a topic property of the default topic
    /// configuration. An empty value resets a string property to its default.
    pub fn set(&mut self, name: &str, value: &str) -> Result<&mut Self, ConfigError> {
        match self.scope {
            Scope::Topic => self.set_topic_prop(name, value)?,
            Scope::Global => match self.set_in_scope(Scope::Global, name, value) {
                Err(ConfigError::Unknown(_)) => {
                    self.default_topic
                        .get_or_insert_with(|| Box::new(ClientConfig::new_topic()));
                    self.default_topic
                        .as_mut()
                        .expect("default topic config")
                        .set_topic_prop(name, value)?
                }
                r => r?,
            },
        }
        Ok(self)
    }

    /// Builder-style [`set`](Self::set) that consumes and returns the configuration.
    pub fn with(mut self, name: &str, value: &str) -> Result<Self, ConfigError> {
        self.set(name, value)?;
        Ok(self)
    }

    fn set_topic_prop(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let name = name.strip_prefix("topic.").unwrap_or(name);
        self.set_in_scope(Scope::Topic, name, value)
    }

    fn set_in_scope(&mut self, scope: Scope, name: &str, value: &str) -> Result<(), ConfigError> {
        let value = if value.is_empty() { None } else { Some(value) };
        let Some(idx) = find_index(scope, name) else {
            return Err(ConfigError::Unknown(format!(
                "No such configuration property: \"{name}\""
            )));
        };
        let prop = &PROPERTIES[idx];
        let current = self.value_at(idx);
        let new = parse_value(prop, value, current)?;
        self.values.insert(
            idx,
            Stored {
                value: new,
                modified: true,
            },
        );
        Ok(())
    }

    /// Stores the textual form of a pointer property (callbacks, opaques) set through a dedicated
    /// C function; it is what `get`/`dump` show for it. Unknown or non-pointer names are refused.
    pub fn set_pointer(&mut self, name: &str, repr: Option<String>) -> Result<(), ConfigError> {
        let scope = self.scope;
        let idx = find_index(scope, name)
            .filter(|&i| PROPERTIES[i].ty == PropertyType::Pointer)
            .ok_or_else(|| {
                ConfigError::Unknown(format!("No such configuration property: \"{name}\""))
            })?;
        self.values.insert(
            idx,
            Stored {
                value: Value::Text(repr),
                modified: true,
            },
        );
        Ok(())
    }

    /// The default topic configuration, if a topic property was set on this client configuration
    /// or one was installed with [`set_default_topic_conf`](Self::set_default_topic_conf).
    pub fn default_topic_conf(&self) -> Option<&ClientConfig> {
        self.default_topic.as_deref()
    }

    /// Replaces the default topic configuration (`rd_kafka_conf_set_default_topic_conf()`).
    ///
    /// # Panics
    /// If `self` is not a client configuration or `topic` is not a topic configuration.
    pub fn set_default_topic_conf(&mut self, topic: ClientConfig) {
        assert!(self.scope == Scope::Global && topic.scope == Scope::Topic);
        self.default_topic = Some(Box::new(topic));
    }

    fn value_at(&self, idx: usize) -> Option<Value> {
        match self.values.get(&idx) {
            Some(s) => match &s.value {
                // A reset string falls back to its default.
                Value::Text(None) => PROPERTIES[idx].default_value(),
                v => Some(v.clone()),
            },
            None => PROPERTIES[idx].default_value(),
        }
    }

    /// Resolves a name (with aliases) to this configuration or its (possibly default) topic part.
    fn resolve(&self, name: &str) -> Option<(&ClientConfig, usize)> {
        if let Some(i) = find_index(self.scope, name) {
            return Some((self, i));
        }
        if self.scope == Scope::Global {
            if let Some(i) = find_index(Scope::Topic, name) {
                static EMPTY: std::sync::OnceLock<ClientConfig> = std::sync::OnceLock::new();
                let t = self
                    .default_topic
                    .as_deref()
                    .unwrap_or_else(|| EMPTY.get_or_init(ClientConfig::new_topic));
                return Some((t, i));
            }
        }
        None
    }

    /// The value of a property as `rd_kafka_conf_get()` prints it (aliases resolved); the default
    /// when unset. `None` for unknown names and for properties without a value (unset strings and
    /// pointers). On a client configuration, topic properties are read from the default topic
    /// configuration, or their defaults if there is none.
    pub fn get(&self, name: &str) -> Option<String> {
        let (conf, idx) = self.resolve(name)?;
        let v = conf.value_at(idx)?;
        PROPERTIES[idx].print(&v)
    }

    /// Whether the application set the property (directly or through an alias).
    pub fn is_set(&self, name: &str) -> bool {
        self.resolve(name)
            .is_some_and(|(c, i)| c.values.get(&i).is_some_and(|s| s.modified))
    }

    /// All properties of this configuration's scope that have a value, as
    /// `(name, value)` pairs in table order, like `rd_kafka_conf_dump()` /
    /// `rd_kafka_topic_conf_dump()`: aliases and refused Java-client names are left out, and so are
    /// properties without a value.
    pub fn dump(&self) -> Vec<(String, String)> {
        PROPERTIES
            .iter()
            .enumerate()
            .filter(|(_, p)| p.scope == self.scope)
            .filter(|(_, p)| !matches!(p.ty, PropertyType::Alias(_) | PropertyType::Invalid(_)))
            .filter_map(|(i, p)| {
                let v = self.value_at(i)?;
                Some((p.name.to_string(), p.print(&v)?))
            })
            .collect()
    }

    /// The dump of the default topic configuration (its defaults if none was created).
    pub fn dump_topic(&self) -> Vec<(String, String)> {
        match (&self.default_topic, self.scope) {
            (Some(t), _) => t.dump(),
            (None, Scope::Global) => ClientConfig::new_topic().dump(),
            (None, Scope::Topic) => self.dump(),
        }
    }

    fn typed(&self, name: &str) -> (&'static Property, Option<Value>) {
        let (conf, idx) = self
            .resolve(name)
            .unwrap_or_else(|| panic!("configuration property {name:?} is not in the table"));
        (&PROPERTIES[idx], conf.value_at(idx))
    }

    /// An integer, float (truncated), boolean (0/1) or enumeration (its value) property.
    ///
    /// # Panics
    /// If the name is not in the table or the property is a string: a programming error.
    pub fn get_i64(&self, name: &str) -> i64 {
        match self.typed(name) {
            (_, Some(Value::Int(i))) => i as i64,
            (_, Some(Value::Float(f))) => f as i64,
            (_, Some(Value::Bool(b))) => b as i64,
            (_, Some(Value::Enum(e) | Value::Flags(e))) => e as i64,
            (p, v) => panic!("configuration property {} is not numeric: {v:?}", p.name),
        }
    }

    /// A float property (integers are converted).
    ///
    /// # Panics
    /// As [`get_i64`](Self::get_i64).
    pub fn get_f64(&self, name: &str) -> f64 {
        match self.typed(name) {
            (_, Some(Value::Float(f))) => f,
            _ => self.get_i64(name) as f64,
        }
    }

    /// A boolean property.
    ///
    /// # Panics
    /// If the name is not in the table or the property is not a boolean.
    pub fn get_bool(&self, name: &str) -> bool {
        match self.typed(name) {
            (_, Some(Value::Bool(b))) => b,
            (p, v) => panic!("configuration property {} is not a boolean: {v:?}", p.name),
        }
    }

    /// Any property as text (`""` when it has no value); enumerations give their canonical name.
    ///
    /// # Panics
    /// If the name is not in the table.
    pub fn get_str(&self, name: &str) -> String {
        let (p, v) = self.typed(name);
        v.and_then(|v| p.print(&v)).unwrap_or_default()
    }

    /// A string property, `None` when unset or empty.
    ///
    /// # Panics
    /// If the name is not in the table.
    pub fn get_opt_str(&self, name: &str) -> Option<String> {
        Some(self.get_str(name)).filter(|s| !s.is_empty())
    }

    /// An enumeration property's canonical name (e.g. `"smallest"` after `auto.offset.reset=earliest`).
    ///
    /// # Panics
    /// If the name is not in the table.
    pub fn get_enum(&self, name: &str) -> String {
        self.get_str(name)
    }
}

#[cfg(test)]
mod tests;
