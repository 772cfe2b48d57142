//! The one builder of DynamoDB expressions (key conditions, filters,
//! conditions, updates) used by every table module.
//!
//! Why one builder: DynamoDB rejects redundant parentheses, unused or
//! missing `ExpressionAttributeNames` / `Values` and reserved words used as
//! bare names, and each of those once shipped because expressions were
//! glued together as strings at the call sites. Here every attribute goes
//! behind a `#name`, every value behind a `:vN` that is registered exactly
//! when it is rendered, and parentheses appear only where precedence needs
//! them (an OR inside an AND, an AND or OR inside a NOT).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

/// `ExpressionAttributeNames` of a request.
pub type Names = HashMap<String, String>;
/// `ExpressionAttributeValues` of a request.
pub type Values = HashMap<String, AttributeValue>;

/// A comparison operator of the expression language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// A condition, key condition or filter, as a tree. Build it with the
/// constructors, which keep it flat and free of empty groups.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Cmp(&'static str, Cmp, AttributeValue),
    Between(&'static str, AttributeValue, AttributeValue),
    BeginsWith(&'static str, AttributeValue),
    Contains(&'static str, AttributeValue),
    Exists(&'static str),
    NotExists(&'static str),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
}

impl Cond {
    pub fn eq(attr: &'static str, value: AttributeValue) -> Self {
        Self::Cmp(attr, Cmp::Eq, value)
    }

    /// The conjunction of `parts`, flattened; `None` when there are none.
    pub fn all(parts: impl IntoIterator<Item = Cond>) -> Option<Cond> {
        Self::group(parts, true)
    }

    /// The disjunction of `parts`, flattened; `None` when there are none.
    pub fn any(parts: impl IntoIterator<Item = Cond>) -> Option<Cond> {
        Self::group(parts, false)
    }

    fn group(parts: impl IntoIterator<Item = Cond>, and: bool) -> Option<Cond> {
        let mut out = Self::flatten(parts, and);
        match out.len() {
            0 => None,
            1 => out.pop(),
            _ => Some(if and { Cond::And(out) } else { Cond::Or(out) }),
        }
    }

    /// `self AND other`, flattened.
    pub fn and(self, other: Cond) -> Cond {
        Cond::And(Self::flatten([self, other], true))
    }

    /// `self OR other`, flattened.
    pub fn or(self, other: Cond) -> Cond {
        Cond::Or(Self::flatten([self, other], false))
    }

    fn flatten(parts: impl IntoIterator<Item = Cond>, and: bool) -> Vec<Cond> {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Cond::And(inner) if and => out.extend(inner),
                Cond::Or(inner) if !and => out.extend(inner),
                other => out.push(other),
            }
        }
        out
    }

    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Cond {
        match self {
            Cond::Not(inner) => *inner,
            other => Cond::Not(Box::new(other)),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Cond::Or(_) => 1,
            Cond::And(_) => 2,
            Cond::Not(_) => 3,
            _ => 4,
        }
    }
}

/// DynamoDB's documented limits on expressions (Developer Guide,
/// "Constraints", expression parameters): past them a request fails with
/// a `ValidationException`, so they are checked before sending.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Operators and functions in one expression.
pub const MAX_OPERATORS: usize = 300;
/// All `ExpressionAttributeNames` and `ExpressionAttributeValues` together.
pub const MAX_SUBSTITUTION_BYTES: usize = 2 * 1024 * 1024;

impl Cond {
    /// The operators and functions DynamoDB counts toward
    /// [`MAX_OPERATORS`]: each comparison and function, each AND / OR
    /// between two parts, each NOT.
    pub fn operators(&self) -> usize {
        match self {
            Cond::Cmp(..)
            | Cond::Between(..)
            | Cond::BeginsWith(..)
            | Cond::Contains(..)
            | Cond::Exists(_)
            | Cond::NotExists(_) => 1,
            Cond::And(parts) | Cond::Or(parts) => {
                parts.len().saturating_sub(1) + parts.iter().map(Cond::operators).sum::<usize>()
            }
            Cond::Not(inner) => 1 + inner.operators(),
        }
    }
}

/// Why DynamoDB would refuse `text` (rendered from `cond`) as the `which`
/// expression of a request, if it would.
pub fn limit_problem(which: &str, text: &str, cond: &Cond) -> Option<String> {
    if text.len() > MAX_EXPRESSION_BYTES {
        return Some(format!(
            "it makes a {which} expression of {} bytes, and DynamoDB allows {MAX_EXPRESSION_BYTES}",
            text.len()
        ));
    }
    let operators = cond.operators();
    if operators > MAX_OPERATORS {
        return Some(format!(
            "it makes a {which} expression of {operators} operators, and DynamoDB allows {MAX_OPERATORS}"
        ));
    }
    None
}

/// The bytes of the names and values `names` / `values` substitute.
pub fn substitution_bytes(names: Option<&Names>, values: Option<&Values>) -> usize {
    let names: usize = names
        .map(|n| n.iter().map(|(k, v)| k.len() + v.len()).sum())
        .unwrap_or(0);
    let values: usize = values
        .map(|v| v.iter().map(|(k, v)| k.len() + value_bytes(v)).sum())
        .unwrap_or(0);
    names + values
}

fn value_bytes(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => s.len(),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(x) | AttributeValue::Ns(x) => x.iter().map(String::len).sum(),
        AttributeValue::Bs(x) => x.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(x) => x.iter().map(value_bytes).sum(),
        AttributeValue::M(x) => x.iter().map(|(k, v)| k.len() + value_bytes(v)).sum(),
        _ => 1,
    }
}

/// One SET or REMOVE clause list of an update expression.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    /// `(attribute, value, only when absent)`.
    set: Vec<(&'static str, AttributeValue, bool)>,
    remove: Vec<&'static str>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set(mut self, attr: &'static str, value: AttributeValue) -> Self {
        self.set.push((attr, value, false));
        self
    }

    /// Sets `attr` only where the item does not have it yet.
    pub fn set_if_absent(mut self, attr: &'static str, value: AttributeValue) -> Self {
        self.set.push((attr, value, true));
        self
    }

    pub fn remove(mut self, attr: &'static str) -> Self {
        self.remove.push(attr);
        self
    }
}

/// The names and values an expression (or several expressions of one
/// request) refer to, collected as the expressions are rendered.
#[derive(Debug, Default, Clone)]
pub struct Expr {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expr {
    pub fn new() -> Self {
        Self::default()
    }

    /// The `#name` placeholder of `attr`, registered.
    pub fn name(&mut self, attr: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| *a == attr) {
            return placeholder.clone();
        }
        let simple =
            !attr.is_empty() && attr.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let mut placeholder = if simple {
            format!("#{attr}")
        } else {
            format!("#n{}", self.names.len())
        };
        // Distinct attributes never share a placeholder.
        while self
            .names
            .get(&placeholder)
            .is_some_and(|existing| existing != attr)
        {
            placeholder = format!("#n{}", self.names.len() + 1);
        }
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    /// A fresh `:vN` placeholder bound to `value`.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len() + 1);
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// Renders `cond`, registering what it refers to.
    pub fn cond(&mut self, cond: &Cond) -> String {
        let mut out = String::new();
        self.render(cond, &mut out);
        out
    }

    fn render(&mut self, cond: &Cond, out: &mut String) {
        match cond {
            Cond::Cmp(attr, op, v) => {
                let n = self.name(attr);
                let v = self.value(v.clone());
                out.push_str(&format!("{n} {} {v}", op.symbol()));
            }
            Cond::Between(attr, lo, hi) => {
                let n = self.name(attr);
                let lo = self.value(lo.clone());
                let hi = self.value(hi.clone());
                out.push_str(&format!("{n} BETWEEN {lo} AND {hi}"));
            }
            Cond::BeginsWith(attr, v) => {
                let n = self.name(attr);
                let v = self.value(v.clone());
                out.push_str(&format!("begins_with({n}, {v})"));
            }
            Cond::Contains(attr, v) => {
                let n = self.name(attr);
                let v = self.value(v.clone());
                out.push_str(&format!("contains({n}, {v})"));
            }
            Cond::Exists(attr) => {
                let n = self.name(attr);
                out.push_str(&format!("attribute_exists({n})"));
            }
            Cond::NotExists(attr) => {
                let n = self.name(attr);
                out.push_str(&format!("attribute_not_exists({n})"));
            }
            Cond::And(parts) | Cond::Or(parts) => {
                let (sep, prec) = match cond {
                    Cond::And(_) => (" AND ", 2),
                    _ => (" OR ", 1),
                };
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    self.render_child(p, prec, out);
                }
            }
            Cond::Not(inner) => {
                out.push_str("NOT ");
                self.render_child(inner, 3, out);
            }
        }
    }

    /// A child binding more loosely than its parent goes in parentheses;
    /// nothing else does.
    fn render_child(&mut self, child: &Cond, parent: u8, out: &mut String) {
        let wrap = child.precedence() < parent || (parent == 3 && child.precedence() == 3);
        if wrap {
            out.push('(');
        }
        self.render(child, out);
        if wrap {
            out.push(')');
        }
    }

    /// Renders an update expression (`SET ... REMOVE ...`).
    pub fn update(&mut self, update: &Update) -> String {
        let mut out = String::new();
        if !update.set.is_empty() {
            let parts: Vec<String> = update
                .set
                .iter()
                .map(|(attr, v, if_absent)| {
                    let n = self.name(attr);
                    let v = self.value(v.clone());
                    if *if_absent {
                        format!("{n} = if_not_exists({n}, {v})")
                    } else {
                        format!("{n} = {v}")
                    }
                })
                .collect();
            out.push_str("SET ");
            out.push_str(&parts.join(", "));
        }
        if !update.remove.is_empty() {
            let parts: Vec<String> = update.remove.iter().map(|a| self.name(a)).collect();
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str("REMOVE ");
            out.push_str(&parts.join(", "));
        }
        out
    }

    /// The names for the request; `None` when empty (DynamoDB rejects an
    /// empty map).
    pub fn names(&self) -> Option<Names> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// The values for the request; `None` when empty.
    pub fn values(&self) -> Option<Values> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    /// Both maps, moved out.
    pub fn into_parts(self) -> (Option<Names>, Option<Values>) {
        (
            (!self.names.is_empty()).then_some(self.names),
            (!self.values.is_empty()).then_some(self.values),
        )
    }
}

/// What one write sends besides its item or key: the update and the
/// condition, rendered against one set of placeholders.
pub struct Write {
    pub update: Option<String>,
    pub condition: Option<String>,
    pub names: Option<Names>,
    pub values: Option<Values>,
}

impl Write {
    pub fn new(update: Option<&Update>, condition: Option<&Cond>) -> Self {
        let mut e = Expr::new();
        let update = update.map(|u| e.update(u));
        let condition = condition.map(|c| e.cond(c));
        let (names, values) = e.into_parts();
        Self {
            update,
            condition,
            names,
            values,
        }
    }
}

/// Sets a [`Write`]'s condition and placeholders on any of the SDK's write
/// builders (`PutItem`, `DeleteItem`, `UpdateItem` and their transaction
/// forms), which share the setters' names but no trait.
macro_rules! conditioned {
    ($builder:expr, $write:ident) => {
        $builder
            .set_condition_expression($write.condition)
            .set_expression_attribute_names($write.names)
            .set_expression_attribute_values($write.values)
    };
}
pub(crate) use conditioned;

#[cfg(test)]
mod tests;
