//! Which bytes of the Go function table (`.gopclntab`) belong to which function.
//!
//! For each function the table holds (writer: `cmd/link/internal/ld/pcln.go`, reader:
//! `runtime/symtab.go`):
//! - its 8-byte `functab` entry (`entryOff`, `funcOff`);
//! - its `_func` record: a fixed part (40 bytes for magic `0xfffffff0`, 44 once Go 1.20 added
//!   `startLine`), then `npcdata` and `nfuncdata` 32-bit offsets;
//! - its NUL-terminated name in the function name table;
//! - its pc-value tables in `pctab` (`pcsp`, `pcfile`, `pcln`, each `pcdata[i]`): varint pairs
//!   ending at a zero value delta. The linker deduplicates identical tables; a shared table is
//!   given to the first function that points at it.
//!
//! The layout is chosen by the magic number alone (no Go version table). Every read is bounded
//! by the table's bytes.

use super::pclntab::{PclnTable, PclntabError, PclntabVersion};

/// Longest function or file name read (damaged tables cannot make a search run on).
const MAX_NAME: usize = 1 << 16;
/// Longest pc-value table read.
const MAX_PCVALUE: usize = 1 << 20;

/// What part of a function's table entry a byte range is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PclnPart {
    /// The `functab` pair.
    FuncTab,
    /// The `_func` record with its pcdata/funcdata offsets.
    Record,
    /// The function's name.
    Name,
    /// A pc-value table (stack pointer, file, line or pcdata).
    PcValue,
}

/// Calls `visit(function_index, part, offset, len)` for every byte range of the table that
/// belongs to a function; offsets are from the start of the table. Ranges of different
/// functions may coincide (deduplicated tables and names); callers give them to one owner.
pub fn for_each_piece(
    table: &PclnTable<'_>,
    mut visit: impl FnMut(usize, PclnPart, u64, u64),
) -> Result<(), PclntabError> {
    let data = table.bytes();
    let big = table.byte_order() == super::pclntab::ByteOrder::Big;
    let u32_at = |off: u64| -> Option<u32> {
        let off = usize::try_from(off).ok()?;
        let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let fixed: u64 = match table.version() {
        PclntabVersion::Go118 => 40,
        PclntabVersion::Go120 => 44,
    };
    let pctab = table.pctab_offset()?;
    let functab = table.functab_offset();
    let names = table.funcname_offset();
    for index in 0..table.len() {
        visit(index, PclnPart::FuncTab, functab + 8 * index as u64, 8);
        let rec = table.func_record_offset(index)?;
        let Some(npcdata) = u32_at(rec + 28) else {
            continue;
        };
        let nfuncdata = data
            .get(usize::try_from(rec + fixed - 1).unwrap_or(usize::MAX))
            .copied()
            .unwrap_or(0);
        let len = fixed + 4 * (u64::from(npcdata) + u64::from(nfuncdata));
        // A record that does not fit is damaged: its counts are not to be trusted (a
        // corrupted npcdata would otherwise mean billions of lookups).
        let fits = rec.saturating_add(len) <= data.len() as u64;
        if fits {
            visit(index, PclnPart::Record, rec, len);
        }
        let npcdata = if fits { npcdata } else { 0 };
        if let Some(name_off) = u32_at(rec + 4) {
            let start = names + u64::from(name_off);
            if let Some(n) = usize::try_from(start)
                .ok()
                .and_then(|s| data.get(s..))
                .and_then(|t| memchr::memchr(0, &t[..t.len().min(MAX_NAME)]))
            {
                visit(index, PclnPart::Name, start, n as u64 + 1);
            }
        }
        // pcsp, pcfile, pcln at 16, 20, 24; then npcdata offsets right after the fixed part.
        let tables = [rec + 16, rec + 20, rec + 24]
            .into_iter()
            .chain((0..u64::from(npcdata)).map(|i| rec + fixed + 4 * i));
        for at in tables {
            let Some(off) = u32_at(at).filter(|&o| o != 0) else {
                continue;
            };
            let start = pctab + u64::from(off);
            if let Some(n) = pcvalue_len(data, start) {
                visit(index, PclnPart::PcValue, start, n);
            }
        }
    }
    Ok(())
}

/// Calls `visit(function_index, offset)` for every funcdata blob a function points at (GC
/// stack maps, inlining trees, argument info…): offsets are relative to the start of the
/// `go:func.*` area (`moduledata.gofunc`); `0xffffffff` (no blob) is skipped.
pub fn for_each_funcdata(
    table: &PclnTable<'_>,
    mut visit: impl FnMut(usize, u64),
) -> Result<(), PclntabError> {
    let data = table.bytes();
    let big = table.byte_order() == super::pclntab::ByteOrder::Big;
    let u32_at = |off: u64| -> Option<u32> {
        let off = usize::try_from(off).ok()?;
        let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let fixed: u64 = match table.version() {
        PclntabVersion::Go118 => 40,
        PclntabVersion::Go120 => 44,
    };
    for index in 0..table.len() {
        let rec = table.func_record_offset(index)?;
        let Some(npcdata) = u32_at(rec + 28) else {
            continue;
        };
        let nfuncdata = data
            .get(usize::try_from(rec + fixed - 1).unwrap_or(usize::MAX))
            .copied()
            .unwrap_or(0);
        let first = rec + fixed + 4 * u64::from(npcdata);
        for i in 0..u64::from(nfuncdata) {
            if let Some(off) = u32_at(first + 4 * i).filter(|&o| o != u32::MAX) {
                visit(index, u64::from(off));
            }
        }
    }
    Ok(())
}

/// The source file of the `index`-th function's entry: the first value of its `pcfile` table
/// (a file number within its compilation unit), looked up in `cutab` and `filetab`. `None` when
/// any offset is out of bounds.
pub fn function_file<'a>(table: &PclnTable<'a>, index: usize) -> Option<&'a str> {
    let data = table.bytes();
    let big = table.byte_order() == super::pclntab::ByteOrder::Big;
    let u32_at = |off: u64| -> Option<u32> {
        let off = usize::try_from(off).ok()?;
        let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let rec = table.func_record_offset(index).ok()?;
    let pcfile = u32_at(rec + 20).filter(|&o| o != 0)?;
    let cu = u32_at(rec + 32)?;
    let start = usize::try_from(table.pctab_offset().ok()? + u64::from(pcfile)).ok()?;
    let (uv, _) = read_varint(data, start)?;
    let file_no = -1i64 + ((-((uv & 1) as i64)) ^ ((uv >> 1) as i64));
    if file_no < 0 {
        return None;
    }
    let entry = table.cutab_offset().ok()? + 4 * (u64::from(cu) + file_no as u64);
    let name_off = u32_at(entry).filter(|&o| o != u32::MAX)?;
    let name_start = usize::try_from(table.filetab_offset().ok()? + u64::from(name_off)).ok()?;
    let tail = data.get(name_start..)?;
    let end = memchr::memchr(0, &tail[..tail.len().min(MAX_NAME)])?;
    std::str::from_utf8(&tail[..end]).ok()
}

fn read_varint(data: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for i in 0..5 {
        let b = *data.get(at + i)?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
}

/// The import path of the package whose directory holds `file`, a path as the function table
/// records it: `-trimpath` form (`net/http/server.go`, `example.com/m@v1.2.0/x/y.go`) or
/// absolute (`/usr/local/go/src/net/http/server.go`, `/root/go/pkg/mod/example.com/m@v1.2.0/…`).
/// `None` for paths that name no package (`<autogenerated>`, C headers).
pub fn package_of_file(file: &str) -> Option<String> {
    let rel = if file.starts_with('/') {
        if let Some(i) = file.find("/pkg/mod/") {
            &file[i + 9..]
        } else {
            &file[file.rfind("/src/")? + 5..]
        }
    } else {
        file
    };
    let dir = &rel[..rel.rfind('/')?];
    if dir.is_empty() || dir.starts_with('<') {
        return None;
    }
    // Drop the module version: `example.com/m@v1.2.0/x` → `example.com/m/x`.
    let mut out = String::with_capacity(dir.len());
    let mut skipping = false;
    for c in dir.chars() {
        match c {
            '@' => skipping = true,
            '/' if skipping => {
                skipping = false;
                out.push('/');
            }
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    Some(out.trim_end_matches('/').to_string())
}

/// Length of the pc-value table at `start`: (value delta, pc delta) varint pairs up to and
/// including the zero value delta that ends it (`runtime.step`). `None` when it runs off the
/// data or a varint is longer than 5 bytes.
fn pcvalue_len(data: &[u8], start: u64) -> Option<u64> {
    let start = usize::try_from(start).ok()?;
    let mut p = start;
    let mut first = true;
    loop {
        if p - start > MAX_PCVALUE {
            return None;
        }
        let b = *data.get(p)?;
        if b == 0 && !first {
            return Some((p + 1 - start) as u64);
        }
        first = false;
        p += varint_len(data, p)?;
        p += varint_len(data, p)?;
    }
}

fn varint_len(data: &[u8], at: usize) -> Option<usize> {
    for i in 0..5 {
        if data.get(at + i)? & 0x80 == 0 {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_follow_source_directories() {
        let p = |f| package_of_file(f);
        assert_eq!(
            p("internal/runtime/gc/scan/expand_amd64.s").as_deref(),
            Some("internal/runtime/gc/scan")
        );
        assert_eq!(
            p("github.com/google/uuid@v1.6.0/hash.go").as_deref(),
            Some("github.com/google/uuid")
        );
        assert_eq!(
            p("example.com/m@v1.2.0/x/y.go").as_deref(),
            Some("example.com/m/x")
        );
        assert_eq!(
            p("/usr/local/go/src/net/http/server.go").as_deref(),
            Some("net/http")
        );
        assert_eq!(
            p("/root/go/pkg/mod/golang.org/x/net@v0.1.0/idna/idna.go").as_deref(),
            Some("golang.org/x/net/idna")
        );
        assert_eq!(p("<autogenerated>"), None);
    }

    #[test]
    fn pcvalue_tables_end_at_a_zero_value_delta_after_the_first_pair() {
        // First pair may have value delta 0; (0x02,0x81 0x01) then terminator.
        let data = [0x00, 0x04, 0x02, 0x81, 0x01, 0x00, 0xff];
        assert_eq!(pcvalue_len(&data, 0), Some(6));
        assert_eq!(pcvalue_len(&data[..5], 0), None);
        assert_eq!(pcvalue_len(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], 0), None);
    }
}
