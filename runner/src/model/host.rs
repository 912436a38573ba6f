//! The machine a run timed on, and the source it built: what explains a difference between two runs.

use std::path::Path;
use std::process::Command;

use serde::{Deserialize, Serialize};

use crate::model::system::{Finding, Readings};

/// The machine, as far as it explains noise: load and frequency policy matter as much as the CPU.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Host {
    pub hostname: String,
    pub os: String,
    pub kernel: String,
    pub cpu_model: String,
    pub logical_cpus: usize,
    pub memory_bytes: u64,
    pub load_average_at_start: Option<[f64; 3]>,
    pub cpu_governor: Option<String>,
    /// What tells two processors apart when the model name does not (VMs often say only "AMD
    /// EPYC"). Absent in files older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Cpu>,
    /// `/proc/sys/kernel/randomize_va_space` (2: full address-space randomisation, 0: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aslr: Option<String>,
    /// What skews timings here (`abibench system`), as found when the run started. Optional and
    /// additive like `native`: no schema bump.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<Finding>,
    /// What the run's machine is called where runs of several are combined (`ABIBENCH_MACHINE`:
    /// a CI runner's label), when it was given. Optional and additive: no schema bump.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// The processor as `/proc/cpuinfo` identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cpu {
    pub vendor: String,
    pub family: String,
    pub model: String,
    pub stepping: String,
    pub microcode: String,
    pub flags: Vec<String>,
}

/// The first `key: value` line of `/proc/cpuinfo` text (the first CPU's).
fn cpuinfo_field(cpuinfo: &str, key: &str) -> Option<String> {
    cpuinfo
        .lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// Arm's MIDR implementer codes and the server cores CI runners and clouds use (part numbers as
/// Linux's arch/arm64/include/asm/cputype.h has them); any other is named by its numbers.
const IMPLEMENTERS: [(u32, &str); 8] = [
    (0x41, "Arm"),
    (0x42, "Broadcom"),
    (0x43, "Cavium"),
    (0x48, "HiSilicon"),
    (0x4e, "NVIDIA"),
    (0x51, "Qualcomm"),
    (0x61, "Apple"),
    (0xc0, "Ampere"),
];
const ARM_PARTS: [(u32, &str); 6] = [
    (0xd0c, "Neoverse-N1"),
    (0xd40, "Neoverse-V1"),
    (0xd49, "Neoverse-N2"),
    (0xd4f, "Neoverse-V2"),
    (0xd84, "Neoverse-V3"),
    (0xd8e, "Neoverse-N3"),
];

impl Cpu {
    /// x86's vendor, family, model, stepping and microcode; on aarch64, which has none of these
    /// lines, the MIDR's implementer, architecture, part and variant/revision (`r1p0`).
    fn of(cpuinfo: &str) -> Option<Cpu> {
        let field = |key: &str| cpuinfo_field(cpuinfo, key);
        if let Some(vendor) = field("vendor_id") {
            return Some(Cpu {
                vendor,
                family: field("cpu family").unwrap_or_default(),
                model: field("model").unwrap_or_default(),
                stepping: field("stepping").unwrap_or_default(),
                microcode: field("microcode").unwrap_or_default(),
                flags: field("flags").unwrap_or_default().split_whitespace().map(String::from).collect(),
            });
        }
        let hex = |key: &str| field(key).and_then(|v| u32::from_str_radix(v.trim_start_matches("0x"), 16).ok());
        let implementer = hex("CPU implementer")?;
        let vendor = IMPLEMENTERS
            .iter()
            .find(|(k, _)| *k == implementer)
            .map_or(format!("{implementer:#x}"), |(_, n)| n.to_string());
        Some(Cpu {
            vendor,
            family: format!("ARMv{}", field("CPU architecture").unwrap_or_default()),
            model: hex("CPU part").map_or_else(String::new, |p| format!("{p:#x}")),
            stepping: format!("r{}p{}", hex("CPU variant").unwrap_or(0), field("CPU revision").unwrap_or_default()),
            microcode: String::new(),
            flags: field("Features").unwrap_or_default().split_whitespace().map(String::from).collect(),
        })
    }

    /// What the processor is called where /proc/cpuinfo has no model name (aarch64): `Arm
    /// Neoverse-N2`, or `Ampere part 0xac3` for a part not in the table.
    fn name(&self) -> String {
        let part = u32::from_str_radix(self.model.trim_start_matches("0x"), 16).ok();
        match ARM_PARTS.iter().find(|(p, _)| self.vendor == "Arm" && Some(*p) == part) {
            Some((_, name)) => format!("Arm {name}"),
            None => format!("{} part {}", self.vendor, self.model),
        }
    }

    /// `AuthenticAMD family 26 model 2 stepping 1, microcode 0x1000065`; on aarch64, which has no
    /// microcode line, `Arm family ARMv8 model 0xd49 stepping r0p0`.
    pub fn id(&self) -> String {
        let id = format!("{} family {} model {} stepping {}", self.vendor, self.family, self.model, self.stepping);
        match self.microcode.as_str() {
            "" => id,
            microcode => format!("{id}, microcode {microcode}"),
        }
    }
}

impl Host {
    /// How this host's processor differs from `other`'s, if it does: the identity, and the
    /// instruction-set flags only one of them has.
    pub fn cpu_difference(&self, other: &Host) -> Option<String> {
        let id =
            |h: &Host| h.cpu.as_ref().map_or_else(|| h.cpu_model.clone(), |c| format!("{} ({})", h.cpu_model, c.id()));
        let (a, b) = (id(self), id(other));
        let flags =
            |h: &Host| h.cpu.as_ref().map(|c| c.flags.iter().cloned().collect::<std::collections::BTreeSet<_>>());
        let flag_note = match (flags(self), flags(other)) {
            (Some(x), Some(y)) if x != y => {
                let list = |s: Vec<&String>| s.into_iter().take(8).cloned().collect::<Vec<_>>().join(" ");
                format!(
                    "; flags only here: [{}], only there: [{}]",
                    list(x.difference(&y).collect()),
                    list(y.difference(&x).collect())
                )
            }
            _ => String::new(),
        };
        (a != b || !flag_note.is_empty()).then(|| format!("{a} vs {b}{flag_note}"))
    }
}

/// The source a run built its extension from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceInfo {
    pub git_revision: Option<String>,
    pub git_dirty: bool,
    pub ext_source_hash: String,
}

fn read_trim(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

impl Host {
    pub fn current() -> Host {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string())
        };
        let cpu = Cpu::of(&cpuinfo);
        let os = std::fs::read_to_string("/etc/os-release")
            .ok()
            .and_then(|t| {
                t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string()))
            })
            .unwrap_or_else(|| std::env::consts::OS.into());
        Host {
            hostname: read_trim("/proc/sys/kernel/hostname").unwrap_or_default(),
            os,
            kernel: read_trim("/proc/sys/kernel/osrelease").unwrap_or_default(),
            cpu_model: field(&cpuinfo, "model name").or_else(|| cpu.as_ref().map(Cpu::name)).unwrap_or_default(),
            logical_cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: field(&meminfo, "MemTotal")
                .and_then(|v| v.trim_end_matches(" kB").parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024),
            load_average_at_start: load_average(),
            cpu_governor: read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            cpu,
            aslr: read_trim("/proc/sys/kernel/randomize_va_space"),
            system: Readings::current().judge(),
            label: std::env::var("ABIBENCH_MACHINE").ok().filter(|l| !l.trim().is_empty()),
        }
    }
}

/// The 1, 5 and 15 minute load averages, where the system tells them.
pub fn load_average() -> Option<[f64; 3]> {
    let v: Vec<f64> = read_trim("/proc/loadavg")?.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect();
    (v.len() == 3).then(|| [v[0], v[1], v[2]])
}

/// The workspace's git revision and whether it has uncommitted changes.
pub fn git_state(workspace: &Path) -> (Option<String>, bool) {
    let git = |args: &[&str]| {
        Command::new("git").arg("-C").arg(workspace).args(args).output().ok().filter(|o| o.status.success())
    };
    let rev = git(&["rev-parse", "HEAD"]).map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let dirty = git(&["status", "--porcelain"]).is_some_and(|o| !o.stdout.is_empty());
    (rev, dirty)
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: &str = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\n\
                       model name\t: AMD EPYC 7B13\nstepping\t: 0\nmicrocode\t: 0xffffffff\nflags\t\t: fpu avx2\n";
    // A GitHub ubuntu-24.04-arm runner's first core, as Linux prints it (Azure Cobalt 100).
    const ARM: &str = "processor\t: 0\nBogoMIPS\t: 2000.00\nFeatures\t: fp asimd evtstrm aes sve2\n\
                       CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd49\n\
                       CPU revision\t: 0\n\nprocessor\t: 1\n";

    #[test]
    fn both_architectures_identify_their_processor() {
        let x86 = Cpu::of(X86).unwrap();
        assert_eq!(x86.id(), "AuthenticAMD family 25 model 1 stepping 0, microcode 0xffffffff");
        assert_eq!(x86.flags, ["fpu", "avx2"]);
        let arm = Cpu::of(ARM).unwrap();
        assert_eq!((arm.vendor.as_str(), arm.family.as_str(), arm.model.as_str()), ("Arm", "ARMv8", "0xd49"));
        assert_eq!(arm.stepping, "r0p0");
        assert_eq!(arm.name(), "Arm Neoverse-N2");
        assert_eq!(arm.id(), "Arm family ARMv8 model 0xd49 stepping r0p0");
        let newer = |part: &str| Cpu::of(&ARM.replace("0xd49", part)).unwrap().name();
        assert_eq!((newer("0xd84"), newer("0xd8e")), ("Arm Neoverse-V3".into(), "Arm Neoverse-N3".into()));
        assert!(arm.flags.contains(&"sve2".to_string()));
        let other = Cpu::of(&ARM.replace("0x41", "0xc0").replace("0xd49", "0xac3")).unwrap();
        assert_eq!(other.name(), "Ampere part 0xac3");
        assert_eq!(Cpu::of("processor\t: 0\n"), None);
    }
}
