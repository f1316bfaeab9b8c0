//! Reads what an ELF binary needs to start: its machine (x86_64 or aarch64), its interpreter and
//! libraries, and the glibc symbol versions it requires (its `.gnu.version_r` section), so deploy
//! refuses a binary built for the other architecture, or one that would fail to start on
//! provided.al2023 (glibc 2.34) with "version `GLIBC_2.35' not found" only once it runs in Lambda.

use thiserror::Error;

use crate::platform::{machine_name, Platform};

/// provided.al2023 ships glibc 2.34.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
const SHT_GNU_VERDEF: u32 = 0x6fff_fffd;

#[derive(Debug, Error, PartialEq)]
pub enum ElfError {
    #[error("not an ELF binary")]
    NotElf,
    #[error("not a 64-bit little-endian ELF binary")]
    Unsupported,
    #[error(
        "built for {} (ELF machine {found}), but architecture = \"{architecture}\" runs {} \
         (machine {expected}): build for {} or set `architecture` in deploy.toml",
        machine_name(*found),
        machine_name(*expected),
        machine_name(*expected)
    )]
    WrongMachine {
        found: u16,
        expected: u16,
        architecture: &'static str,
    },
    #[error("truncated or corrupt ELF ({0})")]
    Corrupt(&'static str),
    #[error("needs {needed}, but provided.al2023 has glibc {}.{}: build with `cargo zigbuild --target {target}`", MAX_GLIBC.0, MAX_GLIBC.1)]
    GlibcTooNew { needed: String, target: String },
}

fn u16_at(d: &[u8], at: usize) -> Result<u16, ElfError> {
    d.get(at..at + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes)
        .ok_or(ElfError::Corrupt("short read"))
}

fn u32_at(d: &[u8], at: usize) -> Result<u32, ElfError> {
    d.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or(ElfError::Corrupt("short read"))
}

fn u64_at(d: &[u8], at: usize) -> Result<usize, ElfError> {
    d.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .and_then(|v| usize::try_from(v).ok())
        .ok_or(ElfError::Corrupt("short read"))
}

fn c_str_at(d: &[u8], at: usize) -> Result<String, ElfError> {
    let rest = d.get(at..).ok_or(ElfError::Corrupt("string offset"))?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(ElfError::Corrupt("unterminated string"))?;
    Ok(String::from_utf8_lossy(&rest[..end]).into_owned())
}

struct Section {
    kind: u32,
    offset: usize,
    size: usize,
    link: usize,
    info: usize,
}

/// A 64-bit little-endian ELF (x86_64 and aarch64 both are), or why not; returns its machine.
fn check_header(d: &[u8]) -> Result<u16, ElfError> {
    if d.get(..4) != Some(b"\x7fELF") {
        return Err(ElfError::NotElf);
    }
    if d.get(4) != Some(&2) || d.get(5) != Some(&1) {
        return Err(ElfError::Unsupported);
    }
    u16_at(d, 0x12)
}

/// The ELF machine (`e_machine`) of a 64-bit little-endian binary or library.
pub fn machine(d: &[u8]) -> Result<u16, ElfError> {
    check_header(d)
}

/// Fails unless the binary is an ELF for `platform`'s machine.
pub fn check_machine(d: &[u8], platform: &Platform) -> Result<(), ElfError> {
    let found = check_header(d)?;
    if found != platform.elf_machine {
        return Err(ElfError::WrongMachine {
            found,
            expected: platform.elf_machine,
            architecture: platform.architecture.as_str(),
        });
    }
    Ok(())
}

fn section(d: &[u8], i: usize) -> Result<Section, ElfError> {
    let at = u64_at(d, 0x28)? + i * usize::from(u16_at(d, 0x3a)?);
    Ok(Section {
        kind: u32_at(d, at + 4)?,
        offset: u64_at(d, at + 24)?,
        size: u64_at(d, at + 32)?,
        link: u32_at(d, at + 40)? as usize,
        info: u32_at(d, at + 44)? as usize,
    })
}

/// What the dynamic loader needs to start a binary: its interpreter (`PT_INTERP`, e.g.
/// `/lib64/ld-linux-x86-64.so.2`) and the sonames it loads (`DT_NEEDED`, e.g. `libc.so.6`).
#[derive(Debug, Default, PartialEq)]
pub struct DynamicDeps {
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
}

pub fn dynamic_deps(d: &[u8]) -> Result<DynamicDeps, ElfError> {
    const PT_INTERP: u32 = 3;
    const SHT_DYNAMIC: u32 = 6;
    const DT_NEEDED: u64 = 1;
    check_header(d)?;
    let mut deps = DynamicDeps::default();
    let ph_off = u64_at(d, 0x20)?;
    let ph_entsize = usize::from(u16_at(d, 0x36)?);
    for i in 0..usize::from(u16_at(d, 0x38)?) {
        let at = ph_off + i * ph_entsize;
        if u32_at(d, at)? == PT_INTERP {
            deps.interpreter = Some(c_str_at(d, u64_at(d, at + 8)?)?);
        }
    }
    for i in 0..usize::from(u16_at(d, 0x3c)?) {
        let dynamic = section(d, i)?;
        if dynamic.kind != SHT_DYNAMIC {
            continue;
        }
        let strtab = section(d, dynamic.link)?;
        for entry in (dynamic.offset..dynamic.offset + dynamic.size).step_by(16) {
            let tag = u64_at(d, entry)? as u64;
            if tag == 0 {
                break;
            }
            if tag == DT_NEEDED {
                let name = u64_at(d, entry + 8)?;
                if name >= strtab.size {
                    return Err(ElfError::Corrupt("name outside the string table"));
                }
                deps.needed.push(c_str_at(d, strtab.offset + name)?);
            }
        }
    }
    Ok(deps)
}

/// Every version name the binary requires from its shared libraries (e.g. `GLIBC_2.34`).
pub fn needed_versions(d: &[u8]) -> Result<Vec<String>, ElfError> {
    check_header(d)?;
    let sh_num = usize::from(u16_at(d, 0x3c)?);
    let section = |i: usize| section(d, i);
    let mut names = Vec::new();
    for i in 0..sh_num {
        let verneed = section(i)?;
        if verneed.kind != SHT_GNU_VERNEED {
            continue;
        }
        let strtab = section(verneed.link)?;
        let name = |off: u32| -> Result<String, ElfError> {
            if off as usize >= strtab.size {
                return Err(ElfError::Corrupt("name outside the string table"));
            }
            c_str_at(d, strtab.offset + off as usize)
        };
        // `info` entries of Verneed, each followed by a chain of Vernaux.
        let mut entry = verneed.offset;
        for _ in 0..verneed.info {
            let count = u16_at(d, entry + 2)?;
            let mut aux = entry + u32_at(d, entry + 8)? as usize;
            for _ in 0..count {
                names.push(name(u32_at(d, aux + 8)?)?);
                let next = u32_at(d, aux + 12)? as usize;
                if next == 0 {
                    break;
                }
                aux += next;
            }
            let next = u32_at(d, entry + 12)? as usize;
            if next == 0 {
                break;
            }
            entry += next;
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Every version name a shared library defines (`.gnu.version_d`), e.g. `GLIBC_2.34` for a
/// libc.so.6 of glibc 2.34 or newer.
pub fn defined_versions(d: &[u8]) -> Result<Vec<String>, ElfError> {
    check_header(d)?;
    let mut names = Vec::new();
    for i in 0..usize::from(u16_at(d, 0x3c)?) {
        let verdef = section(d, i)?;
        if verdef.kind != SHT_GNU_VERDEF {
            continue;
        }
        let strtab = section(d, verdef.link)?;
        // `info` Verdef entries (vd_aux at 12, vd_next at 16); the first Verdaux names it.
        let mut entry = verdef.offset;
        for _ in 0..verdef.info {
            let aux = entry + u32_at(d, entry + 12)? as usize;
            let off = u32_at(d, aux)? as usize;
            if off >= strtab.size {
                return Err(ElfError::Corrupt("name outside the string table"));
            }
            names.push(c_str_at(d, strtab.offset + off)?);
            let next = u32_at(d, entry + 16)? as usize;
            if next == 0 {
                break;
            }
            entry += next;
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// The glibc versions `needed` that `library` (a libc.so.6) does not define.
pub fn missing_versions(needed: &[String], library: &[u8]) -> Result<Vec<String>, ElfError> {
    let defined = defined_versions(library)?;
    Ok(needed
        .iter()
        .filter(|n| glibc_version(n).is_some() && !defined.contains(n))
        .cloned()
        .collect())
}

fn glibc_version(name: &str) -> Option<(u32, u32)> {
    let v = name.strip_prefix("GLIBC_")?;
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// The newest glibc version the binary needs, if it links glibc at all.
pub fn newest_glibc(d: &[u8]) -> Result<Option<String>, ElfError> {
    Ok(needed_versions(d)?
        .into_iter()
        .filter_map(|n| glibc_version(&n).map(|v| (v, n)))
        .max()
        .map(|(_, n)| n))
}

/// Fails when the binary is not for `platform`'s machine or needs a glibc newer than Lambda's;
/// returns the newest glibc version it needs.
pub fn check_lambda_compatible(d: &[u8], platform: &Platform) -> Result<Option<String>, ElfError> {
    check_machine(d, platform)?;
    let newest = newest_glibc(d)?;
    if let Some(n) = &newest {
        if glibc_version(n).is_some_and(|v| v > MAX_GLIBC) {
            return Err(ElfError::GlibcTooNew {
                needed: n.clone(),
                target: platform.zig_target(),
            });
        }
    }
    Ok(newest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::{ARM64, X86_64};

    fn system_binary() -> Vec<u8> {
        std::fs::read("/bin/true").expect("/bin/true exists on Linux")
    }

    #[test]
    fn reads_the_glibc_versions_of_a_real_binary() {
        let versions = needed_versions(&system_binary()).unwrap();
        assert!(
            versions.iter().any(|v| v.starts_with("GLIBC_2.")),
            "{versions:?}"
        );
        let objdump = std::process::Command::new("objdump")
            .args(["-T", "/bin/true"])
            .output();
        if let Ok(out) = objdump {
            // Same answer as binutils, where it is installed.
            let text = String::from_utf8_lossy(&out.stdout);
            for v in &versions {
                assert!(text.contains(v.as_str()), "{v} not in objdump output");
            }
        }
    }

    #[test]
    fn a_binary_needing_a_newer_glibc_is_refused() {
        let mut bin = system_binary();
        let newest = newest_glibc(&bin).unwrap().expect("links glibc");
        // Rewrite the newest version name in place (same length) to one Lambda lacks.
        let too_new = format!("GLIBC_2.{}", 99);
        assert_eq!(newest.len(), too_new.len(), "{newest}");
        let at = bin
            .windows(newest.len())
            .position(|w| w == newest.as_bytes())
            .unwrap();
        bin[at..at + too_new.len()].copy_from_slice(too_new.as_bytes());
        let e = check_lambda_compatible(&bin, &X86_64).unwrap_err();
        assert_eq!(
            e,
            ElfError::GlibcTooNew {
                needed: too_new,
                target: "x86_64-unknown-linux-gnu.2.34".into()
            }
        );
        assert!(
            e.to_string()
                .ends_with("`cargo zigbuild --target x86_64-unknown-linux-gnu.2.34`"),
            "{e}"
        );
        // The same binary relabelled aarch64 is refused for its glibc too, with aarch64's target.
        bin[0x12..0x14].copy_from_slice(&183u16.to_le_bytes());
        let e = check_lambda_compatible(&bin, &ARM64)
            .unwrap_err()
            .to_string();
        assert!(e.contains("aarch64-unknown-linux-gnu.2.34"), "{e}");
    }

    #[test]
    fn non_elf_and_wrong_machine_are_refused() {
        assert_eq!(needed_versions(b"#!/bin/sh\n"), Err(ElfError::NotElf));
        assert_eq!(
            check_lambda_compatible(b"#!/bin/sh\n", &ARM64),
            Err(ElfError::NotElf)
        );
        let mut bin = system_binary();
        assert_eq!(machine(&bin), Ok(62));
        assert!(check_lambda_compatible(&bin, &X86_64).is_ok());
        let e = check_lambda_compatible(&bin, &ARM64).unwrap_err();
        assert_eq!(
            e,
            ElfError::WrongMachine {
                found: 62,
                expected: 183,
                architecture: "arm64"
            }
        );
        assert_eq!(
            e.to_string(),
            "built for x86_64 (ELF machine 62), but architecture = \"arm64\" runs aarch64 \
             (machine 183): build for aarch64 or set `architecture` in deploy.toml"
        );
        bin[0x12..0x14].copy_from_slice(&183u16.to_le_bytes());
        assert_eq!(machine(&bin), Ok(183));
        assert!(check_lambda_compatible(&bin, &ARM64).is_ok());
        let e = check_lambda_compatible(&bin, &X86_64)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("built for aarch64 (ELF machine 183), but architecture = \"x86_64\""),
            "{e}"
        );
        // The versions are read whatever the machine.
        assert!(!needed_versions(&bin).unwrap().is_empty());
    }

    #[test]
    fn reads_the_interpreter_and_libraries_of_a_real_binary() {
        let deps = dynamic_deps(&system_binary()).unwrap();
        assert_eq!(
            deps.interpreter.as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        assert!(deps.needed.iter().any(|n| n == "libc.so.6"), "{deps:?}");
    }

    #[test]
    fn this_machines_libc_defines_what_its_binaries_need() {
        let libc = ["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"]
            .iter()
            .find_map(|p| std::fs::read(p).ok())
            .expect("a libc.so.6");
        let defined = defined_versions(&libc).unwrap();
        assert!(defined.iter().any(|v| v == "GLIBC_2.2.5"), "{defined:?}");
        let needed = needed_versions(&system_binary()).unwrap();
        assert_eq!(
            missing_versions(&needed, &libc).unwrap(),
            Vec::<String>::new()
        );
        let newer = vec!["GLIBC_2.99".to_string()];
        assert_eq!(missing_versions(&newer, &libc).unwrap(), newer);
    }

    #[test]
    fn version_order_is_numeric() {
        assert!(glibc_version("GLIBC_2.9") < glibc_version("GLIBC_2.34"));
        assert_eq!(glibc_version("GLIBC_PRIVATE"), None);
        assert_eq!(glibc_version("GLIBC_2.2.5"), Some((2, 2)));
    }
}
