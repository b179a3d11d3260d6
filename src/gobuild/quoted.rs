//! Go's quoting rules for flag lists (`-ldflags`, `-gcflags`, `GOFLAGS`), as
//! `cmd/internal/quoted` defines them, so any value `go build` accepts means the same here:
//! fields are separated by spaces, tabs or newlines; a field that *starts* with `'` or `"` runs
//! to the matching quote, with no escapes inside; quotes elsewhere are ordinary characters.

/// Why a flag list could not be split or joined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// A quote with no closing quote.
    #[error("unterminated {0} string")]
    Unterminated(char),
    #[error(
        "argument {0:?} contains both single and double quotes, which Go's flag quoting cannot \
         express"
    )]
    /// An argument holding both kinds of quote.
    BothQuotes(String),
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Splits `s` into fields (`quoted.Split`).
pub fn split(s: &str) -> Result<Vec<String>, QuoteError> {
    let mut fields = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
        let Some(first) = rest.bytes().next() else {
            return Ok(fields);
        };
        if first == b'"' || first == b'\'' {
            let quote = first as char;
            let body = &rest[1..];
            let end = body.find(quote).ok_or(QuoteError::Unterminated(quote))?;
            fields.push(body[..end].to_string());
            rest = &body[end + 1..];
        } else {
            let end = rest.bytes().position(is_space).unwrap_or(rest.len());
            fields.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
}

/// Joins fields so that [`split`] gives them back (`quoted.Join`): a field is quoted only when
/// it holds a space or a quote, with whichever quote it does not contain.
pub fn join<S: AsRef<str>>(args: &[S]) -> Result<String, QuoteError> {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        let arg = arg.as_ref();
        if i > 0 {
            out.push(' ');
        }
        let space = arg.bytes().any(is_space);
        let single = arg.contains('\'');
        let double = arg.contains('"');
        match (space || single || double, single, double) {
            (false, _, _) => out.push_str(arg),
            (true, false, _) => {
                out.push('\'');
                out.push_str(arg);
                out.push('\'');
            }
            (true, true, false) => {
                out.push('"');
                out.push_str(arg);
                out.push('"');
            }
            (true, true, true) => return Err(QuoteError::BothQuotes(arg.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_cmd_internal_quoted() {
        let s = |x: &str| split(x).unwrap();
        assert_eq!(s("-X 'main.v=a b' -w"), ["-X", "main.v=a b", "-w"]);
        assert_eq!(s("  \t"), Vec::<String>::new());
        assert_eq!(s("-X \"main.x=\""), ["-X", "main.x="]);
        // Quotes inside a field are kept as they are, as go does.
        assert_eq!(s("-X main.v='a"), ["-X", "main.v='a"]);
        assert_eq!(s("'a''b'"), ["a", "b"]);
        assert_eq!(split("-X 'oops"), Err(QuoteError::Unterminated('\'')));
    }

    #[test]
    fn join_quotes_only_what_needs_it() {
        assert_eq!(
            join(&["-s", "-X", "main.v=a b"]).unwrap(),
            "-s -X 'main.v=a b'"
        );
        assert_eq!(join(&["it's"]).unwrap(), "\"it's\"");
        assert!(join(&["a'\"b"]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn join_then_split_round_trips(args in proptest::collection::vec("[a-z =.'\"-]{0,8}", 0..6)) {
            let args: Vec<String> = args
                .into_iter()
                .filter(|a| !(a.contains('\'') && a.contains('"')))
                .filter(|a| !a.is_empty())
                .collect();
            let joined = join(&args).unwrap();
            proptest::prop_assert_eq!(split(&joined).unwrap(), args);
        }
    }
}
