//! SCIM filter expressions (RFC 7644 §3.4.2.2): parsing to a tree, and the
//! normal form the query planner works on (NOT pushed down, then a
//! disjunction of conjunctions).

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Co,
    NotCo,
    Sw,
    NotSw,
    Ew,
    NotEw,
    Gt,
    Ge,
    Lt,
    Le,
    Pr,
    Np,
}

impl Op {
    fn negate(self) -> Self {
        match self {
            Self::Eq => Self::Ne,
            Self::Ne => Self::Eq,
            Self::Co => Self::NotCo,
            Self::NotCo => Self::Co,
            Self::Sw => Self::NotSw,
            Self::NotSw => Self::Sw,
            Self::Ew => Self::NotEw,
            Self::NotEw => Self::Ew,
            Self::Gt => Self::Le,
            Self::Le => Self::Gt,
            Self::Ge => Self::Lt,
            Self::Lt => Self::Ge,
            Self::Pr => Self::Np,
            Self::Np => Self::Pr,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Term {
        attr: String,
        op: Op,
        value: Literal,
    },
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Str(String),
}

fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let mut out = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Token::Open);
            }
            ')' => {
                chars.next();
                out.push(Token::Close);
            }
            '"' => {
                // A JSON string literal, escapes included.
                let rest = &input[i..];
                let mut de = serde_json::Deserializer::from_str(rest).into_iter::<String>();
                let s = match de.next() {
                    Some(Ok(s)) => s,
                    _ => return Err(FilterError(format!("unterminated string at {i}"))),
                };
                let consumed = de.byte_offset();
                while chars.peek().is_some_and(|&(j, _)| j < i + consumed) {
                    chars.next();
                }
                out.push(Token::Str(s));
            }
            '[' | ']' => {
                return Err(FilterError(
                    "value filters (attr[...]) are not supported".into(),
                ));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || c == '(' || c == ')' || c == '"' || c == '[' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Longest filter accepted, and deepest nesting of parentheses / `not`:
/// the parser recurses, and a request must not be able to exhaust the stack.
pub const MAX_FILTER_BYTES: usize = 8 * 1024;
pub const MAX_DEPTH: usize = 32;

impl Parser {
    fn peek_word(&self) -> Option<String> {
        match self.tokens.get(self.pos) {
            Some(Token::Word(w)) => Some(w.to_ascii_lowercase()),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Filter, FilterError> {
        self.chain("or", Self::and, Filter::Or)
    }

    fn and(&mut self) -> Result<Filter, FilterError> {
        self.chain("and", Self::unary, Filter::And)
    }

    /// `operand (word operand)*`, folded to the left by `join`.
    fn chain(
        &mut self,
        word: &str,
        operand: fn(&mut Self) -> Result<Filter, FilterError>,
        join: fn(Box<Filter>, Box<Filter>) -> Filter,
    ) -> Result<Filter, FilterError> {
        let mut left = operand(self)?;
        while self.peek_word().as_deref() == Some(word) {
            self.pos += 1;
            left = join(Box::new(left), Box::new(operand(self)?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError(format!(
                "nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Filter, FilterError> {
        if self.peek_word().as_deref() == Some("not") {
            self.pos += 1;
            if self.next() != Some(Token::Open) {
                return Err(FilterError("expected '(' after not".into()));
            }
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err(FilterError("expected ')'".into()));
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                if self.next() != Some(Token::Close) {
                    return Err(FilterError("expected ')'".into()));
                }
                Ok(inner)
            }
            Some(Token::Word(attr)) => self.term(attr),
            Some(t) => Err(FilterError(format!("unexpected {t:?}"))),
            None => Err(FilterError("unexpected end of filter".into())),
        }
    }

    fn term(&mut self, attr: String) -> Result<Filter, FilterError> {
        let op = match self.next() {
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "eq" => Op::Eq,
                "ne" => Op::Ne,
                "co" => Op::Co,
                "sw" => Op::Sw,
                "ew" => Op::Ew,
                "gt" => Op::Gt,
                "ge" => Op::Ge,
                "lt" => Op::Lt,
                "le" => Op::Le,
                "pr" => {
                    return Ok(Filter::Term {
                        attr,
                        op: Op::Pr,
                        value: Literal::Null,
                    });
                }
                other => return Err(FilterError(format!("unknown operator '{other}'"))),
            },
            _ => return Err(FilterError(format!("expected an operator after '{attr}'"))),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Literal::Str(s),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Literal::Bool(true),
                "false" => Literal::Bool(false),
                "null" => Literal::Null,
                num => Literal::Num(
                    num.parse()
                        .map_err(|_| FilterError(format!("invalid value '{num}'")))?,
                ),
            },
            _ => return Err(FilterError(format!("expected a value after '{attr}'"))),
        };
        Ok(Filter::Term { attr, op, value })
    }
}

pub fn parse(input: &str) -> Result<Filter, FilterError> {
    if input.len() > MAX_FILTER_BYTES {
        return Err(FilterError(format!("longer than {MAX_FILTER_BYTES} bytes")));
    }
    let mut p = Parser {
        tokens: tokenize(input)?,
        pos: 0,
        depth: 0,
    };
    let f = p.or()?;
    if p.pos < p.tokens.len() {
        return Err(FilterError(format!(
            "unexpected {:?} after the filter",
            p.tokens[p.pos]
        )));
    }
    Ok(f)
}

/// A leaf of the normal form: attribute, operator, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub attr: String,
    pub op: Op,
    pub value: Literal,
}

/// Disjunctive normal form: OR of ANDs.
pub type Dnf = Vec<Vec<Term>>;

/// Most products a filter may expand to (each may become a query).
pub const MAX_PRODUCTS: usize = 64;

pub fn normalize(f: &Filter) -> Result<Dnf, FilterError> {
    dnf(f, false)
}

fn dnf(f: &Filter, negated: bool) -> Result<Dnf, FilterError> {
    let out = match (f, negated) {
        (Filter::Term { attr, op, value }, neg) => {
            let term = |op| Term {
                attr: attr.clone(),
                op,
                value: value.clone(),
            };
            match (neg, op) {
                (false, op) => vec![vec![term(*op)]],
                // An ordering on a missing attribute is false, so its
                // negation holds there too: `not (a gt 1)` is `a le 1 or
                // a np`, not just `a le 1` (the plugin's push-down drops
                // accounts without the attribute).
                (true, Op::Gt | Op::Ge | Op::Lt | Op::Le) => {
                    vec![vec![term(op.negate())], vec![term(Op::Np)]]
                }
                (true, op) => vec![vec![term(op.negate())]],
            }
        }
        (Filter::Not(inner), neg) => dnf(inner, !neg)?,
        (Filter::Or(a, b), false) | (Filter::And(a, b), true) => {
            let mut l = dnf(a, negated)?;
            l.extend(dnf(b, negated)?);
            l
        }
        (Filter::And(a, b), false) | (Filter::Or(a, b), true) => {
            let (l, r) = (dnf(a, negated)?, dnf(b, negated)?);
            // Checked before the cross product is built: building it first
            // let one request allocate 64 x 64 products of long terms.
            if l.len().saturating_mul(r.len()) > MAX_PRODUCTS {
                return Err(too_many());
            }
            let mut out = Vec::with_capacity(l.len() * r.len());
            for x in &l {
                for y in &r {
                    out.push(x.iter().chain(y).cloned().collect());
                }
            }
            out
        }
    };
    if out.len() > MAX_PRODUCTS {
        return Err(too_many());
    }
    Ok(out)
}

fn too_many() -> FilterError {
    FilterError(format!(
        "filter expands to more than {MAX_PRODUCTS} alternatives"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_and_of_ors_past_the_product_limit_is_refused_before_it_is_expanded() {
        // 8 x 8 = 64 products is the limit; a third group of 8 would be 512.
        let group = |a: &str| {
            let alts: Vec<String> = (0..8)
                .map(|i| format!("{a}{i} eq \"{}\"", "v".repeat(40)))
                .collect();
            format!("({})", alts.join(" or "))
        };
        let two = format!("{} and {}", group("a"), group("b"));
        assert_eq!(normalize(&parse(&two).unwrap()).unwrap().len(), 64);
        let three = format!("{two} and {}", group("c"));
        let err = normalize(&parse(&three).unwrap()).unwrap_err();
        assert!(err.0.contains("more than 64"), "{}", err.0);
    }

    fn terms(d: &Dnf) -> Vec<Vec<String>> {
        d.iter()
            .map(|p| p.iter().map(|t| format!("{} {:?}", t.attr, t.op)).collect())
            .collect()
    }

    #[test]
    fn parses_precedence_and_grouping() {
        let f = parse(r#"userName eq "a" or emails eq "b" and active eq true"#).unwrap();
        assert!(matches!(f, Filter::Or(_, _)));
        let f = parse(r#"(userName eq "a" or emails eq "b") and active eq true"#).unwrap();
        assert!(matches!(f, Filter::And(_, _)));
    }

    #[test]
    fn strings_take_json_escapes() {
        let f = parse(r#"userName eq "a \"quoted\" name""#).unwrap();
        assert_eq!(
            f,
            Filter::Term {
                attr: "userName".into(),
                op: Op::Eq,
                value: Literal::Str("a \"quoted\" name".into())
            }
        );
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "userName",
            "userName eq",
            "userName zz \"a\"",
            "(a pr",
            "emails[type eq \"w\"]",
            "a pr b pr",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    // The plugin's NormalizationTests, reproduced.
    #[test]
    fn dnf_of_or_and_term() {
        let d = normalize(&parse("(a pr or b pr) and c pr").unwrap()).unwrap();
        assert_eq!(terms(&d), [["a Pr", "c Pr"], ["b Pr", "c Pr"]]);
    }

    #[test]
    fn dnf_pushes_not_down_with_de_morgan() {
        let d = normalize(&parse("(a pr or b pr) and not (c pr)").unwrap()).unwrap();
        assert_eq!(terms(&d), [["a Pr", "c Np"], ["b Pr", "c Np"]]);
        let d = normalize(&parse("(a pr or b pr) and (c pr or d pr)").unwrap()).unwrap();
        assert_eq!(d.len(), 4);
        let d = normalize(&parse("(a pr or b pr) and not (c pr or d pr)").unwrap()).unwrap();
        assert_eq!(
            terms(&d),
            [["a Pr", "c Np", "d Np"], ["b Pr", "c Np", "d Np"]]
        );
        let d = normalize(&parse(r#"not (a gt 1)"#).unwrap()).unwrap();
        assert_eq!(terms(&d), [["a Le"], ["a Np"]]);
    }

    #[test]
    fn deep_nesting_and_huge_filters_are_refused_not_overflowing_the_stack() {
        let deep = format!("{}a pr{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(parse(&deep).unwrap_err().0.contains("longer than"));
        let nested = format!("{}a pr{}", "not (".repeat(40), ")".repeat(40));
        assert!(parse(&nested).unwrap_err().0.contains("nested deeper"));
        let ok = format!("{}a pr{}", "(".repeat(20), ")".repeat(20));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn explosive_filters_are_refused() {
        let clause = "(a pr or b pr)";
        let f = [clause; 7].join(" and ");
        assert!(normalize(&parse(&f).unwrap()).is_err());
    }
}
