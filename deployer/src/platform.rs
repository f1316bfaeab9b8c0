//! What deploy.toml's `architecture` means for the build, the ELF check, the image and
//! `mcpctl dev`: one table per Lambda architecture, so no other module matches on it.

use mcpctl_stack::config::Architecture;

/// ELF `e_machine` values (System V ABI).
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

#[derive(Debug, PartialEq, Eq)]
pub struct Platform {
    pub architecture: Architecture,
    /// Rust's target triple, without the glibc version.
    pub triple: &'static str,
    /// The ELF machine a binary for it must declare.
    pub elf_machine: u16,
    /// The CPU the code is generated for. Never the build machine's: the x86-64 baseline, or
    /// generic ARMv8-A for Graviton. Graviton2 (Neoverse N1) is the oldest Graviton Lambda runs
    /// on and ARMv8.2-A, Graviton3 (Neoverse V1) and Graviton4 (Neoverse V2) are newer still, so
    /// ARMv8-A code runs on all three; Rust's `outline-atomics` (on by default for this target)
    /// still uses their LSE atomics, chosen at run time.
    pub target_cpu: &'static str,
    /// `architecture` in an OCI image config (Go's GOARCH names).
    pub oci_architecture: &'static str,
    /// The file name of glibc's dynamic loader.
    pub loader: &'static str,
    /// Debian's multiarch directory name (`/lib/<this>`).
    pub multiarch: &'static str,
    /// The user-mode emulator that runs its binaries on another machine (`mcpctl dev --arch`).
    pub qemu: &'static str,
    /// The CPU model qemu emulates for it: Graviton2's Neoverse N1 for arm64, the oldest (and
    /// smallest) instruction set of the Graviton generations Lambda runs on.
    pub qemu_cpu: Option<&'static str>,
    /// Where Debian/Ubuntu's cross glibc (`libc6-arm64-cross`, `libc6-amd64-cross`) lives.
    pub cross_sysroot: &'static str,
    /// The package that puts glibc there.
    pub cross_package: &'static str,
}

pub const ARM64: Platform = Platform {
    architecture: Architecture::Arm64,
    triple: "aarch64-unknown-linux-gnu",
    elf_machine: EM_AARCH64,
    target_cpu: "generic",
    oci_architecture: "arm64",
    loader: "ld-linux-aarch64.so.1",
    multiarch: "aarch64-linux-gnu",
    qemu: "qemu-aarch64",
    qemu_cpu: Some("neoverse-n1"),
    cross_sysroot: "/usr/aarch64-linux-gnu",
    cross_package: "libc6-arm64-cross",
};

pub const X86_64: Platform = Platform {
    architecture: Architecture::X86_64,
    triple: "x86_64-unknown-linux-gnu",
    elf_machine: EM_X86_64,
    target_cpu: "x86-64",
    oci_architecture: "amd64",
    loader: "ld-linux-x86-64.so.2",
    multiarch: "x86_64-linux-gnu",
    qemu: "qemu-x86_64",
    qemu_cpu: None,
    cross_sysroot: "/usr/x86_64-linux-gnu",
    cross_package: "libc6-amd64-cross",
};

/// provided.al2023 ships glibc 2.34; zig links against exactly that with this suffix.
pub const GLIBC_SUFFIX: &str = ".2.34";

impl Platform {
    pub fn of(architecture: Architecture) -> &'static Platform {
        match architecture {
            Architecture::Arm64 => &ARM64,
            Architecture::X86_64 => &X86_64,
        }
    }

    /// The platform this mcpctl runs on, if it is one Lambda has.
    pub fn host() -> Option<&'static Platform> {
        match std::env::consts::ARCH {
            "aarch64" => Some(&ARM64),
            "x86_64" => Some(&X86_64),
            _ => None,
        }
    }

    pub fn is_host(&self) -> bool {
        Platform::host() == Some(self)
    }

    /// `cargo zigbuild --target` for provided.al2023: the triple with glibc 2.34.
    pub fn zig_target(&self) -> String {
        format!("{}{GLIBC_SUFFIX}", self.triple)
    }

    /// `aarch64` or `x86_64`: what `uname -m` and binutils call it.
    pub fn machine_name(&self) -> &'static str {
        self.triple.split('-').next().unwrap_or(self.triple)
    }
}

/// A readable name for an ELF machine number.
pub fn machine_name(machine: u16) -> String {
    match machine {
        EM_X86_64 => "x86_64".into(),
        EM_AARCH64 => "aarch64".into(),
        3 => "i386".into(),
        40 => "32-bit arm".into(),
        243 => "riscv".into(),
        other => format!("machine {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_architecture_has_its_triple_machine_and_image_name() {
        assert_eq!(
            Platform::of(Architecture::Arm64).zig_target(),
            "aarch64-unknown-linux-gnu.2.34"
        );
        assert_eq!(
            Platform::of(Architecture::X86_64).zig_target(),
            "x86_64-unknown-linux-gnu.2.34"
        );
        assert_eq!(ARM64.elf_machine, 183);
        assert_eq!(X86_64.elf_machine, 62);
        assert_eq!(ARM64.oci_architecture, "arm64");
        assert_eq!(X86_64.oci_architecture, "amd64");
        assert_eq!(ARM64.machine_name(), "aarch64");
        for arch in Architecture::ALL {
            assert_eq!(Platform::of(arch).architecture, arch);
            // Never the build machine's CPU.
            assert_ne!(Platform::of(arch).target_cpu, "native");
        }
    }

    #[test]
    fn this_machine_is_a_lambda_platform() {
        let host = Platform::host().expect("tests run on x86_64 or aarch64");
        assert!(host.is_host());
        assert_eq!(host.machine_name(), std::env::consts::ARCH);
    }
}
