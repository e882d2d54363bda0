//! Reading a `.py` migration without running Python. Plain data is read:
//! string literals in every form Python allows (prefixes, triple quotes,
//! escapes, implicit concatenation), `step(...)`, `group(...)` and
//! `transaction(...)` calls anywhere at module level, `__depends__` and
//! `__transactional__`, and names bound once to a literal. Anything else a
//! step needs (a callable, an f-string, `%` formatting, a value computed at
//! import) is refused with its line and column, never guessed.

use std::collections::HashMap;

use super::{ReadError, Step};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Str {
        value: String,
        formatted: bool,
        bytes: bool,
    },
    Name(String),
    Number,
    Op(char),
    Newline,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
}

fn tokenize(src: &str) -> Result<Vec<Token>, ReadError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let mut depth = 0usize;
    // Open brackets and where they stand, to name the one never closed.
    let mut open: Vec<(char, usize, usize)> = Vec::new();
    let mut line_indent: Option<usize> = None;
    macro_rules! advance {
        () => {{
            if chars[i] == '\n' {
                line += 1;
                col = 1;
            } else {
                col += 1;
            }
            i += 1;
        }};
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                if depth == 0 && line_indent.is_some() {
                    out.push(Token {
                        tok: Tok::Newline,
                        line,
                        col,
                    });
                    line_indent = None;
                }
                advance!();
            }
            ' ' | '\t' | '\r' | '\x0c' => advance!(),
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    advance!();
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n')
                || (chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n')) =>
            {
                while chars[i] != '\n' {
                    advance!();
                }
                advance!();
            }
            _ => {
                let (tline, tcol) = (line, col);
                line_indent.get_or_insert(tcol);
                // A string literal, with an optional prefix.
                let mut j = i;
                while j < chars.len() && j - i < 2 && "rRbBuUfF".contains(chars[j]) {
                    j += 1;
                }
                if j < chars.len()
                    && (chars[j] == '\'' || chars[j] == '"')
                    && (j == i || valid_prefix(&chars[i..j]))
                {
                    let prefix: String = chars[i..j].iter().collect::<String>().to_lowercase();
                    while i < j {
                        advance!();
                    }
                    let q = chars[i];
                    let triple = chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q);
                    let qlen = if triple { 3 } else { 1 };
                    for _ in 0..qlen {
                        advance!();
                    }
                    let raw = prefix.contains('r');
                    let mut value = String::new();
                    loop {
                        if i >= chars.len() {
                            return Err(ReadError::syntax(
                                tline,
                                tcol,
                                "unterminated string literal",
                            ));
                        }
                        let ch = chars[i];
                        if ch == q
                            && (!triple
                                || (chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q)))
                        {
                            for _ in 0..qlen {
                                advance!();
                            }
                            break;
                        }
                        if ch == '\n' && !triple {
                            return Err(ReadError::syntax(
                                tline,
                                tcol,
                                "unterminated string literal",
                            ));
                        }
                        if ch == '\\' && i + 1 < chars.len() {
                            let next = chars[i + 1];
                            if raw {
                                value.push('\\');
                                value.push(next);
                                advance!();
                                advance!();
                                continue;
                            }
                            advance!();
                            advance!();
                            match next {
                                '\n' => {}
                                '\\' => value.push('\\'),
                                '\'' => value.push('\''),
                                '"' => value.push('"'),
                                'n' => value.push('\n'),
                                't' => value.push('\t'),
                                'r' => value.push('\r'),
                                'a' => value.push('\x07'),
                                'b' => value.push('\x08'),
                                'f' => value.push('\x0c'),
                                'v' => value.push('\x0b'),
                                '0'..='7' => {
                                    let mut n = next.to_digit(8).unwrap_or(0);
                                    for _ in 0..2 {
                                        match chars.get(i).and_then(|c| c.to_digit(8)) {
                                            Some(d) => {
                                                n = n * 8 + d;
                                                advance!();
                                            }
                                            None => break,
                                        }
                                    }
                                    value.push(char::from_u32(n).unwrap_or('\u{fffd}'));
                                }
                                'x' | 'u' | 'U' if !prefix.contains('b') || next == 'x' => {
                                    let len = match next {
                                        'x' => 2,
                                        'u' => 4,
                                        _ => 8,
                                    };
                                    let hex: String =
                                        chars[i..(i + len).min(chars.len())].iter().collect();
                                    match u32::from_str_radix(&hex, 16)
                                        .ok()
                                        .and_then(char::from_u32)
                                    {
                                        Some(ch) if hex.len() == len => {
                                            value.push(ch);
                                            for _ in 0..len {
                                                advance!();
                                            }
                                        }
                                        _ => {
                                            return Err(ReadError::syntax(
                                                line,
                                                col,
                                                "invalid escape in string literal",
                                            ))
                                        }
                                    }
                                }
                                other => {
                                    value.push('\\');
                                    value.push(other);
                                }
                            }
                            continue;
                        }
                        value.push(ch);
                        advance!();
                    }
                    out.push(Token {
                        tok: Tok::Str {
                            value,
                            formatted: prefix.contains('f'),
                            bytes: prefix.contains('b'),
                        },
                        line: tline,
                        col: tcol,
                    });
                } else if c.is_alphabetic() || c == '_' {
                    let mut name = String::new();
                    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                        name.push(chars[i]);
                        advance!();
                    }
                    out.push(Token {
                        tok: Tok::Name(name),
                        line: tline,
                        col: tcol,
                    });
                } else if c.is_ascii_digit() {
                    while i < chars.len()
                        && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
                    {
                        advance!();
                    }
                    out.push(Token {
                        tok: Tok::Number,
                        line: tline,
                        col: tcol,
                    });
                } else {
                    match c {
                        '(' | '[' | '{' => {
                            depth += 1;
                            open.push((c, tline, tcol));
                        }
                        ')' | ']' | '}' => {
                            let want = match c {
                                ')' => '(',
                                ']' => '[',
                                _ => '{',
                            };
                            match open.pop() {
                                Some((o, _, _)) if o == want => {}
                                Some((o, l, k)) => {
                                    return Err(ReadError::syntax(
                                        tline,
                                        tcol,
                                        format!("`{c}` does not close the `{o}` opened at {l}:{k}"),
                                    ))
                                }
                                None => {
                                    return Err(ReadError::syntax(
                                        tline,
                                        tcol,
                                        format!("`{c}` closes nothing"),
                                    ))
                                }
                            }
                            depth = depth.saturating_sub(1);
                        }
                        _ => {}
                    }
                    out.push(Token {
                        tok: Tok::Op(c),
                        line: tline,
                        col: tcol,
                    });
                    advance!();
                }
            }
        }
    }
    if line_indent.is_some() {
        out.push(Token {
            tok: Tok::Newline,
            line,
            col,
        });
    }
    if let Some((o, l, k)) = open.first() {
        return Err(ReadError::syntax(*l, *k, format!("`{o}` is never closed")));
    }
    Ok(out)
}

fn valid_prefix(p: &[char]) -> bool {
    let s: String = p.iter().collect::<String>().to_lowercase();
    matches!(
        s.as_str(),
        "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf"
    )
}

/// A value read from the module.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    None,
    Bool(bool),
    List(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    /// A step or a group of steps, flattened, in the order yoyo collects them.
    Steps(Vec<usize>),
    /// Anything else: why it cannot be read, and where.
    Opaque {
        what: String,
        line: usize,
        col: usize,
    },
}

/// What a `.py` migration declares.
#[derive(Debug, Default)]
pub struct PyMigration {
    pub docstring: Option<String>,
    pub depends: Vec<String>,
    pub transactional: bool,
    pub steps: Vec<Step>,
}

/// Positional and keyword arguments of a call.
type CallArgs = (Vec<Value>, Vec<(String, Value)>);

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
    consts: HashMap<String, Value>,
    rebound: Vec<String>,
    steps: Vec<Option<Step>>,
}

pub fn read(src: &str) -> Result<PyMigration, ReadError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        toks: &toks,
        pos: 0,
        consts: HashMap::new(),
        rebound: Vec::new(),
        steps: Vec::new(),
    };
    let mut out = PyMigration {
        transactional: true,
        ..PyMigration::default()
    };
    while p.pos < toks.len() {
        let start = p.pos;
        let first = &toks[start];
        if first.tok == Tok::Newline {
            p.pos += 1;
            continue;
        }
        if first.col > 1 {
            // The body of a def or class (or a continuation of one): skipped.
            p.skip_line();
            continue;
        }
        match &first.tok {
            Tok::Name(kw)
                if matches!(kw.as_str(), "import" | "from" | "def" | "class" | "pass")
                    || kw.starts_with('@') =>
            {
                let from = p.pos;
                p.skip_line();
                p.skip_block();
                // Steps made inside a function or class are not plain data.
                if matches!(kw.as_str(), "def" | "class") {
                    if let Some(t) =
                        toks[from..p.pos]
                            .windows(2)
                            .find_map(|w| match (&w[0].tok, &w[1].tok) {
                                (Tok::Name(n), Tok::Op('('))
                                    if matches!(n.as_str(), "step" | "group" | "transaction") =>
                                {
                                    Some(&w[0])
                                }
                                _ => None,
                            })
                    {
                        return Err(ReadError::unsupported(
                            t.line,
                            t.col,
                            "steps made inside a function or class",
                        ));
                    }
                }
            }
            Tok::Op('@') => {
                p.skip_line();
            }
            Tok::Name(kw) if matches!(kw.as_str(), "if" | "for" | "while" | "with" | "try") => {
                let line_start = p.pos;
                p.skip_line();
                p.skip_block();
                let mentions_steps = toks[line_start..p.pos]
                    .iter()
                    .any(|t| matches!(&t.tok, Tok::Name(n) if n == "step" || n == "group" || n == "transaction"));
                if mentions_steps {
                    return Err(ReadError::unsupported(
                        first.line,
                        first.col,
                        format!("steps inside a module-level `{kw}` block"),
                    ));
                }
            }
            Tok::Str { value, .. } if p.is_bare_expression() => {
                if out.docstring.is_none() {
                    out.docstring = Some(value.trim().to_string());
                }
                p.skip_line();
            }
            Tok::Name(name) if p.peek_assignment() => {
                let name = name.clone();
                // NAME = value  or  NAME: annotation = value
                p.pos += 1;
                if p.at_op(':') {
                    while !p.at_op('=') && !p.at_newline() {
                        p.pos += 1;
                    }
                }
                p.pos += 1; // '='
                let value = p.expr()?;
                p.expect_line_end()?;
                match name.as_str() {
                    "__depends__" => {
                        out.depends = depends_from(&value)?;
                    }
                    "__transactional__" => {
                        out.transactional = match value {
                            Value::Bool(b) => b,
                            _ => {
                                return Err(ReadError::unsupported(
                                    first.line,
                                    first.col,
                                    "`__transactional__` that is not True or False",
                                ))
                            }
                        };
                    }
                    _ => {
                        if p.consts.contains_key(&name) {
                            p.rebound.push(name.clone());
                        }
                        p.consts.insert(name, value);
                    }
                }
            }
            _ => {
                // An expression statement: `step(...)` or `group(...)` at module level.
                // Anything else (a call to another function, which might make
                // steps under another name) is refused rather than guessed.
                let value = p.expr()?;
                p.expect_line_end()?;
                if let Value::Opaque { what, line, col } = value {
                    return Err(ReadError::unsupported(
                        line,
                        col,
                        format!("a module-level statement evaluating {what}"),
                    ));
                }
            }
        }
        if p.pos == start {
            p.pos += 1;
        }
    }
    out.steps = p.steps.into_iter().flatten().collect();
    Ok(out)
}

fn depends_from(value: &Value) -> Result<Vec<String>, ReadError> {
    match value {
        Value::Str(s) => Ok(vec![s.clone()]),
        Value::List(items) => items
            .iter()
            .map(|v| match v {
                Value::Str(s) => Ok(s.clone()),
                Value::Opaque { what, line, col } => Err(ReadError::unsupported(
                    *line,
                    *col,
                    format!("`__depends__` holding {what}"),
                )),
                _ => Err(ReadError::unsupported(
                    1,
                    1,
                    "`__depends__` holding a value that is not a migration id",
                )),
            })
            .collect(),
        Value::Dict(entries) if entries.is_empty() => Ok(Vec::new()),
        Value::Dict(entries) => depends_from(&Value::List(
            entries.iter().map(|(k, _)| k.clone()).collect(),
        )),
        Value::None => Ok(Vec::new()),
        Value::Opaque { what, line, col } => Err(ReadError::unsupported(
            *line,
            *col,
            format!("`__depends__` set to {what}"),
        )),
        _ => Err(ReadError::unsupported(
            1,
            1,
            "`__depends__` that is not a string, list, tuple, set or dict",
        )),
    }
}

impl Parser<'_> {
    fn tok(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    fn at_op(&self, c: char) -> bool {
        matches!(self.tok(), Some(Token { tok: Tok::Op(o), .. }) if *o == c)
    }
    fn at_newline(&self) -> bool {
        matches!(
            self.tok(),
            None | Some(Token {
                tok: Tok::Newline,
                ..
            })
        )
    }
    fn skip_line(&mut self) {
        while !self.at_newline() {
            self.pos += 1;
        }
        self.pos += 1;
    }
    /// Skip the indented lines that follow (a block body).
    fn skip_block(&mut self) {
        while let Some(t) = self.tok() {
            if t.tok == Tok::Newline {
                self.pos += 1;
                continue;
            }
            if t.col > 1 {
                self.skip_line();
            } else {
                break;
            }
        }
    }
    fn is_bare_expression(&self) -> bool {
        // A string followed only by more strings until the end of the line.
        let mut k = self.pos;
        while let Some(t) = self.toks.get(k) {
            match t.tok {
                Tok::Str { .. } => k += 1,
                Tok::Newline => return true,
                _ => return false,
            }
        }
        true
    }
    fn peek_assignment(&self) -> bool {
        match self.toks.get(self.pos + 1).map(|t| &t.tok) {
            Some(Tok::Op('=')) => !matches!(
                self.toks.get(self.pos + 2).map(|t| &t.tok),
                Some(Tok::Op('='))
            ),
            Some(Tok::Op(':')) => {
                let mut k = self.pos + 2;
                while let Some(t) = self.toks.get(k) {
                    match t.tok {
                        Tok::Op('=') => return true,
                        Tok::Newline => return false,
                        _ => k += 1,
                    }
                }
                false
            }
            _ => false,
        }
    }
    fn expect_line_end(&mut self) -> Result<(), ReadError> {
        if self.at_op(';') {
            self.pos += 1;
        }
        if self.at_newline() {
            self.pos += 1;
            return Ok(());
        }
        let t = &self.toks[self.pos];
        Err(ReadError::unsupported(t.line, t.col, describe(&t.tok)))
    }

    /// An expression: literals, names, calls, containers. Anything the reader
    /// cannot evaluate becomes `Value::Opaque`, consumed to the end of the
    /// expression so that parsing can go on.
    fn expr(&mut self) -> Result<Value, ReadError> {
        let v = self.primary()?;
        // Operators after a value (`%`, `+`, `.format(...)`, `if`): the result is computed.
        if let Some(t) = self.tok() {
            let (line, col) = (t.line, t.col);
            let what = match &t.tok {
                Tok::Op('%') => Some("SQL built with `%` formatting"),
                Tok::Op('+') => Some("SQL built with `+`"),
                Tok::Op('.') => Some("a value computed by a method call"),
                Tok::Op('*') => Some("a value computed at import"),
                Tok::Name(n) if n == "if" || n == "for" => Some("a conditional or comprehension"),
                _ => None,
            };
            if let Some(what) = what {
                self.skip_expression();
                return Ok(Value::Opaque {
                    what: what.into(),
                    line,
                    col,
                });
            }
        }
        Ok(v)
    }

    /// Skip to the end of the current expression (a `,` or closing bracket at
    /// this level, or the end of the line).
    fn skip_expression(&mut self) {
        let mut depth = 0usize;
        while let Some(t) = self.tok() {
            match t.tok {
                Tok::Op('(' | '[' | '{') => depth += 1,
                Tok::Op(')' | ']' | '}') if depth == 0 => return,
                Tok::Op(')' | ']' | '}') => depth -= 1,
                Tok::Op(',') if depth == 0 => return,
                Tok::Newline if depth == 0 => return,
                _ => {}
            }
            self.pos += 1;
        }
    }

    fn primary(&mut self) -> Result<Value, ReadError> {
        let Some(t) = self.tok().cloned() else {
            return Err(ReadError::syntax(0, 0, "unexpected end of file"));
        };
        match &t.tok {
            Tok::Str { .. } => {
                let mut s = String::new();
                let mut formatted = false;
                let mut is_bytes = false;
                while let Some(Token {
                    tok:
                        Tok::Str {
                            value,
                            formatted: f,
                            bytes: b,
                        },
                    ..
                }) = self.tok()
                {
                    s.push_str(value);
                    formatted |= *f;
                    is_bytes |= *b;
                    self.pos += 1;
                }
                if formatted {
                    return Ok(Value::Opaque {
                        what: "an f-string".into(),
                        line: t.line,
                        col: t.col,
                    });
                }
                // yoyo takes a step that is not a str for a callable, and
                // calling bytes fails (TypeError): never SQL to it.
                if is_bytes {
                    return Ok(Value::Opaque {
                        what: "a bytes literal (yoyo calls a step that is not a str)".into(),
                        line: t.line,
                        col: t.col,
                    });
                }
                Ok(Value::Str(s))
            }
            Tok::Number => {
                self.pos += 1;
                Ok(Value::Opaque {
                    what: "a number".into(),
                    line: t.line,
                    col: t.col,
                })
            }
            Tok::Op(open @ ('[' | '(' | '{')) => {
                let close = match open {
                    '[' => ']',
                    '(' => ')',
                    _ => '}',
                };
                self.pos += 1;
                let mut items = Vec::new();
                let mut dict = Vec::new();
                loop {
                    if self.at_op(close) {
                        self.pos += 1;
                        break;
                    }
                    if self.tok().is_none() {
                        return Err(ReadError::syntax(
                            t.line,
                            t.col,
                            format!("`{open}` is never closed"),
                        ));
                    }
                    let v = self.expr()?;
                    if *open == '{' && self.at_op(':') {
                        self.pos += 1;
                        let value = self.expr()?;
                        dict.push((v, value));
                    } else {
                        items.push(v);
                    }
                    if self.at_op(',') {
                        self.pos += 1;
                    } else if !self.at_op(close) {
                        let here = self.tok().map_or((t.line, t.col), |x| (x.line, x.col));
                        self.skip_expression();
                        if !self.at_op(close) && !self.at_op(',') {
                            return Err(ReadError::unsupported(
                                here.0,
                                here.1,
                                "an expression the reader does not understand",
                            ));
                        }
                    }
                }
                if *open == '{' && (!dict.is_empty() || items.is_empty()) {
                    return Ok(Value::Dict(dict));
                }
                if *open == '(' && items.len() == 1 {
                    // Parentheses around one value (a tuple needs a comma, but either way the value is the same for us).
                    return Ok(items.pop().unwrap_or(Value::None));
                }
                Ok(Value::List(items))
            }
            Tok::Name(name) => {
                self.pos += 1;
                match name.as_str() {
                    "None" => return Ok(Value::None),
                    "True" => return Ok(Value::Bool(true)),
                    "False" => return Ok(Value::Bool(false)),
                    "lambda" => {
                        self.skip_expression();
                        return Ok(Value::Opaque {
                            what: "a lambda (a Python callable)".into(),
                            line: t.line,
                            col: t.col,
                        });
                    }
                    _ => {}
                }
                if self.at_op('(') {
                    return self.call(name, &t);
                }
                if self.rebound.contains(name) {
                    return Ok(Value::Opaque {
                        what: format!("`{name}`, which is bound more than once"),
                        line: t.line,
                        col: t.col,
                    });
                }
                Ok(match self.consts.get(name) {
                    Some(v) => v.clone(),
                    None => Value::Opaque {
                        what: format!("`{name}`, which is not a module-level literal"),
                        line: t.line,
                        col: t.col,
                    },
                })
            }
            other => {
                let what = describe(other);
                Err(ReadError::unsupported(t.line, t.col, what))
            }
        }
    }

    /// Arguments of a call: positional values and `name=value` pairs.
    fn args(&mut self) -> Result<CallArgs, ReadError> {
        let open = self.toks[self.pos].clone();
        self.pos += 1; // '('
        let mut positional = Vec::new();
        let mut keywords = Vec::new();
        loop {
            if self.at_op(')') {
                self.pos += 1;
                break;
            }
            if self.tok().is_none() {
                return Err(ReadError::syntax(
                    open.line,
                    open.col,
                    "`(` is never closed",
                ));
            }
            let keyword = match (
                self.tok().map(|t| &t.tok),
                self.toks.get(self.pos + 1).map(|t| &t.tok),
            ) {
                (Some(Tok::Name(n)), Some(Tok::Op('=')))
                    if !matches!(
                        self.toks.get(self.pos + 2).map(|t| &t.tok),
                        Some(Tok::Op('='))
                    ) =>
                {
                    Some(n.clone())
                }
                _ => None,
            };
            if keyword.is_some() {
                self.pos += 2;
            }
            if self.at_op('*') {
                let t = self.toks[self.pos].clone();
                self.skip_expression();
                positional.push(Value::Opaque {
                    what: "unpacked arguments".into(),
                    line: t.line,
                    col: t.col,
                });
            } else {
                let v = self.expr()?;
                match keyword {
                    Some(k) => keywords.push((k, v)),
                    None => positional.push(v),
                }
            }
            if self.at_op(',') {
                self.pos += 1;
            } else if !self.at_op(')') {
                let t = self.tok().cloned().unwrap_or(open.clone());
                return Err(ReadError::unsupported(
                    t.line,
                    t.col,
                    "an argument the reader does not understand",
                ));
            }
        }
        Ok((positional, keywords))
    }

    fn call(&mut self, name: &str, at: &Token) -> Result<Value, ReadError> {
        let (positional, keywords) = self.args()?;
        match name {
            "step" => {
                let get = |i: usize, k: &str| -> Option<Value> {
                    keywords
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .or_else(|| positional.get(i).cloned())
                };
                let apply = sql_arg(get(0, "apply"), "apply", at)?;
                let rollback = sql_arg(get(1, "rollback"), "rollback", at)?;
                let ignore_errors = match get(2, "ignore_errors") {
                    Some(Value::Str(s)) => Some(s),
                    _ => None,
                };
                let Some(apply) = apply else {
                    return Err(ReadError::unsupported(
                        at.line,
                        at.col,
                        "a step without apply SQL",
                    ));
                };
                self.steps.push(Some(Step {
                    apply,
                    rollback,
                    line: at.line,
                    ignore_errors,
                }));
                Ok(Value::Steps(vec![self.steps.len() - 1]))
            }
            "group" | "transaction" => {
                // yoyo undoes the whole group when one of its steps fails and
                // the group ignores errors: not something flattened steps say.
                if keywords
                    .iter()
                    .any(|(k, v)| k == "ignore_errors" && !matches!(v, Value::None))
                {
                    return Err(ReadError::unsupported(
                        at.line,
                        at.col,
                        format!("`{name}(..., ignore_errors=...)`: yoyo undoes the whole group when a step fails"),
                    ));
                }
                let members: Vec<Value> = match keywords.iter().find(|(k, _)| k == "steps") {
                    Some((_, v)) => vec![v.clone()],
                    None => positional,
                };
                let mut inner = Vec::new();
                for m in members {
                    collect_steps(&m, &mut inner, at)?;
                }
                // yoyo removes the members and adds the group where the call ends.
                let moved: Vec<Option<Step>> =
                    inner.iter().map(|&i| self.steps[i].take()).collect();
                let mut ids = Vec::new();
                for s in moved.into_iter().flatten() {
                    self.steps.push(Some(s));
                    ids.push(self.steps.len() - 1);
                }
                Ok(Value::Steps(ids))
            }
            _ => Ok(Value::Opaque {
                what: format!("the result of calling `{name}()`"),
                line: at.line,
                col: at.col,
            }),
        }
    }
}

fn collect_steps(v: &Value, out: &mut Vec<usize>, at: &Token) -> Result<(), ReadError> {
    match v {
        Value::Steps(ids) => {
            out.extend(ids);
            Ok(())
        }
        Value::List(items) => items.iter().try_for_each(|i| collect_steps(i, out, at)),
        Value::Opaque { what, line, col } => Err(ReadError::unsupported(
            *line,
            *col,
            format!("a group holding {what}"),
        )),
        _ => Err(ReadError::unsupported(
            at.line,
            at.col,
            "a group holding something that is not a step",
        )),
    }
}

fn sql_arg(v: Option<Value>, role: &str, at: &Token) -> Result<Option<String>, ReadError> {
    match v {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s)),
        Some(Value::List(items)) if items.iter().all(|i| matches!(i, Value::Str(_))) => {
            // yoyo runs each string of a list in turn; keep them joined for display.
            Ok(Some(
                items
                    .iter()
                    .filter_map(|i| {
                        if let Value::Str(s) = i {
                            Some(s.as_str())
                        } else {
                            None
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(";\n"),
            ))
        }
        Some(Value::Opaque { what, line, col }) => Err(ReadError::unsupported(
            line,
            col,
            format!("{role} given as {what}"),
        )),
        Some(_) => Err(ReadError::unsupported(
            at.line,
            at.col,
            format!("{role} that is not SQL text (a Python callable?)"),
        )),
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Op(c) => format!("`{c}` where the reader expects plain data"),
        Tok::Name(n) => format!("`{n}` where the reader expects plain data"),
        Tok::Number => "a number where the reader expects plain data".into(),
        Tok::Str { .. } => "a string where the reader expects the end of the statement".into(),
        Tok::Newline => "the end of the line".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_in_every_form() {
        let m = read(concat!(
            "'''Doc.'''\nfrom yoyo import step\n",
            "A = r'a\\n' \"b\" u'c\\x41\\u00e9'\n",
            "B = b'\\x00'\n",
            "step(A, \"\"\"DROP\n\"\"\")\n",
            "step(apply='x', rollback=None)\n",
        ))
        .unwrap();
        assert_eq!(m.docstring.as_deref(), Some("Doc."));
        assert_eq!(m.steps[0].apply, "a\\nbcAé");
        assert_eq!(m.steps[0].rollback.as_deref(), Some("DROP\n"));
        assert_eq!(m.steps[1].rollback, None);
    }

    #[test]
    fn depends_in_every_form() {
        for (src, want) in [
            (
                "__depends__ = {'0001_a', '0002.b'}",
                vec!["0001_a", "0002.b"],
            ),
            ("__depends__ = ['a']", vec!["a"]),
            ("__depends__ = ('a',)", vec!["a"]),
            ("__depends__ = 'a'", vec!["a"]),
            ("__depends__ = {}", vec![]),
            ("__depends__: dict = {}", vec![]),
        ] {
            assert_eq!(read(src).unwrap().depends, want, "{src}");
        }
    }

    #[test]
    fn groups_keep_yoyo_order_and_callables_are_refused() {
        let m = read("steps = [step('a'), group([step('b'), step('c')]), step('d')]\n__transactional__ = False\n").unwrap();
        let applies: Vec<&str> = m.steps.iter().map(|s| s.apply.as_str()).collect();
        assert_eq!(applies, ["a", "b", "c", "d"]);
        assert!(!m.transactional);
        let err = read("def up(conn):\n    pass\n\nsteps = [step(up)]\n").unwrap_err();
        assert_eq!((err.line, err.code), (4, "unsupported_step"));
        let err = read("from yoyo import step as s\ns('CREATE TABLE a (x)')\n").unwrap_err();
        assert_eq!((err.line, err.code), (2, "unsupported_step"));
        let err = read("def make():\n    return [step('x')]\n\nsteps = make()\n").unwrap_err();
        assert_eq!((err.line, err.code), (2, "unsupported_step"));
        assert!(read("def helper(conn):\n    return conn.execute('SELECT 1')\n\nstep('CREATE TABLE a (x)')\n").is_ok());
        let err = read("T = 'x'\nstep('CREATE TABLE %s (id)' % T)\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains('%'), "{}", err.message);
        assert!(read("step(f'CREATE TABLE {x}')").is_err());
        // yoyo calls a bytes step (TypeError): it is not SQL.
        for src in [
            "step(b'CREATE TABLE a (x)')",
            "step('SELECT 1', rb'SELECT 2')",
        ] {
            let err = read(src).unwrap_err();
            assert_eq!(err.code, "unsupported_step", "{src}");
            assert!(err.message.contains("bytes"), "{}", err.message);
        }
    }
}
