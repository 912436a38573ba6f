//! What on this machine skews timings, as pyperf's `system show` sees it: the frequency policy,
//! turbo, ASLR, load, isolated CPUs and hardware counters, each with its fix. Read from /sys and
//! /proc; judged by a pure function so the verdicts are testable on any machine.

use std::fmt;
use std::str::FromStr;

use nix::sched::{sched_getaffinity, CpuSet};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// (busy, all) jiffies of every CPU so far, from /proc/stat's first line (idle and iowait are
/// not busy; guest time is already inside user time).
fn cpu_times() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    parse_cpu_times(stat.lines().next()?)
}

fn parse_cpu_times(line: &str) -> Option<(u64, u64)> {
    let f: Vec<u64> =
        line.strip_prefix("cpu ")?.split_whitespace().take(8).map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let all: u64 = f.iter().sum();
    Some((all - f.get(3)? - f.get(4).unwrap_or(&0), all))
}

/// One check of the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub check: String,
    /// What was found, e.g. `powersave on CPUs 0-3`.
    pub state: String,
    pub verdict: Verdict,
    /// The command or setting that fixes it (for advice too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// Would help, but its absence does not distort a run.
    Advice,
    /// Distorts timings: `compare` warns.
    Skews,
}

/// The raw state the checks judge (`None`: the kernel does not expose it, e.g. in a VM).
#[derive(Debug, Clone, Default)]
pub struct Readings {
    pub cpus: usize,
    /// Each CPU's cpufreq governor.
    pub governors: Vec<String>,
    /// Whether turbo/boost is on.
    pub turbo: Option<bool>,
    pub aslr: Option<u8>,
    pub load_1min: Option<f64>,
    /// CPUs' worth of time other work took over a short window (`Readings::sampled`): unlike
    /// the load average, it does not remember the builds of the minute before.
    pub busy: Option<f64>,
    pub isolated: CpuList,
    pub perf_event_paranoid: Option<i32>,
}

impl Readings {
    pub fn current() -> Readings {
        let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let turbo = read("/sys/devices/system/cpu/intel_pstate/no_turbo")
            .map(|v| v == "0")
            .or_else(|| read("/sys/devices/system/cpu/cpufreq/boost").map(|v| v == "1"));
        Readings {
            cpus,
            governors: (0..cpus)
                .filter_map(|c| read(&format!("/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor")))
                .collect(),
            turbo,
            aslr: read("/proc/sys/kernel/randomize_va_space").and_then(|v| v.parse().ok()),
            load_1min: read("/proc/loadavg").and_then(|v| v.split_whitespace().next()?.parse().ok()),
            busy: None,
            isolated: isolated_cpus(),
            perf_event_paranoid: read("/proc/sys/kernel/perf_event_paranoid").and_then(|v| v.parse().ok()),
        }
    }

    /// `current`, with how busy other work keeps the CPUs over `window`, during which this
    /// thread sleeps (the moment before measuring: abibench's own builds are over).
    pub fn sampled(window: std::time::Duration) -> Readings {
        let before = cpu_times();
        std::thread::sleep(window);
        let busy = before.zip(cpu_times()).and_then(|((busy0, all0), (busy1, all1))| {
            let all = all1.checked_sub(all0).filter(|&t| t > 0)?;
            Some(busy1.saturating_sub(busy0) as f64 / all as f64)
        });
        let r = Readings::current();
        Readings { busy: busy.map(|f| f * r.cpus as f64), ..r }
    }

    /// The load check: other work's CPUs just before measuring where sampled, else the load
    /// average. A worker needs a CPU of its own: beyond cpus - 1 it shares one.
    fn load(&self) -> Finding {
        let cpus = self.cpus;
        let fix = Some("run when the machine is idle, or pin workers to a CPU kept free (--affinity, isolcpus)".into());
        let (state, skews) = match (self.busy, self.load_1min) {
            (Some(b), _) if b + 1.0 > cpus as f64 => (
                format!("other work kept {b:.1} of {cpus} CPUs busy just before measuring: it shares the worker's CPU"),
                true,
            ),
            (Some(b), _) => (format!("other work kept {b:.1} of {cpus} CPUs busy"), false),
            (None, None) => ("not exposed by the kernel (a VM's host decides)".to_string(), false),
            (None, Some(l)) if l + 1.0 > cpus as f64 => {
                (format!("{l:.2} on {cpus} CPUs: other work shares the worker's CPU"), true)
            }
            (None, Some(l)) => (format!("{l:.2} on {cpus} CPUs"), false),
        };
        let (verdict, fix) = if skews { (Verdict::Skews, fix) } else { (Verdict::Ok, None) };
        Finding { check: "load".into(), state, verdict, fix }
    }

    /// Every check, in the order `abibench system` shows them.
    pub fn judge(&self) -> Vec<Finding> {
        let finding = |check: &str, state: String, verdict, fix: Option<&str>| Finding {
            check: check.into(),
            state,
            verdict,
            fix: fix.map(String::from),
        };
        let not_exposed = || "not exposed by the kernel (a VM's host decides)".to_string();
        let mut out = Vec::new();
        let mut governors = self.governors.clone();
        governors.sort();
        governors.dedup();
        out.push(match governors.as_slice() {
            [] => finding("CPU governor", not_exposed(), Verdict::Ok, None),
            [g] if g == "performance" => finding("CPU governor", g.clone(), Verdict::Ok, None),
            _ => finding(
                "CPU governor",
                governors.join(", "),
                Verdict::Skews,
                Some("sudo cpupower frequency-set -g performance"),
            ),
        });
        out.push(match self.turbo {
            None => finding("turbo", not_exposed(), Verdict::Ok, None),
            Some(false) => finding("turbo", "off".into(), Verdict::Ok, None),
            Some(true) => finding(
                "turbo",
                "on: the clock follows temperature and load".into(),
                Verdict::Skews,
                Some("echo 1 | sudo tee /sys/devices/system/cpu/intel_pstate/no_turbo (or 0 > .../cpufreq/boost)"),
            ),
        });
        // Full randomisation is wanted: each worker process then has its own layout, which is
        // what makes processes independent samples (pyperf's advice too).
        out.push(match self.aslr {
            None => finding("ASLR", not_exposed(), Verdict::Ok, None),
            Some(2) => finding("ASLR", "full randomisation".into(), Verdict::Ok, None),
            Some(v) => finding(
                "ASLR",
                format!("randomize_va_space = {v}: processes share one memory layout"),
                Verdict::Skews,
                Some("sudo sysctl kernel.randomize_va_space=2"),
            ),
        });
        out.push(self.load());
        out.push(if !self.isolated.0.is_empty() {
            finding(
                "isolated CPUs",
                format!("{} (workers are pinned there unless --affinity says otherwise)", self.isolated),
                Verdict::Ok,
                None,
            )
        } else {
            let last = self.cpus.saturating_sub(1);
            finding(
                "isolated CPUs",
                "none: the scheduler puts other work on every CPU".into(),
                Verdict::Advice,
                Some(&format!(
                    "boot with isolcpus={last} nohz_full={last} rcu_nocbs={last}; abibench then pins workers there"
                )),
            )
        });
        out.push(match self.perf_event_paranoid {
            None => finding("perf counters", not_exposed(), Verdict::Advice, None),
            Some(p) if p <= 2 => {
                finding("perf counters", format!("perf_event_paranoid = {p}: usable"), Verdict::Ok, None)
            }
            Some(p) => finding(
                "perf counters",
                format!("perf_event_paranoid = {p}: none for users, so counting needs callgrind (~50x slower)"),
                Verdict::Advice,
                Some("sudo sysctl kernel.perf_event_paranoid=2"),
            ),
        });
        out
    }
}

/// The CPUs the kernel keeps the scheduler off (`isolcpus=`), which pyperf and abibench pin to.
pub fn isolated_cpus() -> CpuList {
    std::fs::read_to_string("/sys/devices/system/cpu/isolated")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_default()
}

/// The CPUs this process may run on.
pub fn allowed_cpus() -> CpuList {
    CpuList(
        sched_getaffinity(Pid::from_raw(0))
            .map(|set| (0..CpuSet::count()).filter(|&c| set.is_set(c).unwrap_or(false)).collect())
            .unwrap_or_default(),
    )
}

/// A set of CPUs in the kernel's list syntax (`0-2,5`; `""` is none), sorted, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuList(pub Vec<usize>);

impl FromStr for CpuList {
    type Err = String;

    fn from_str(s: &str) -> Result<CpuList, String> {
        let bad = || format!("'{s}' is not a CPU list like 1 or 0-3,6");
        let mut cpus = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let (a, b): (usize, usize) = (a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?);
            if a > b {
                return Err(bad());
            }
            cpus.extend(a..=b);
        }
        cpus.sort_unstable();
        cpus.dedup();
        Ok(CpuList(cpus))
    }
}

impl fmt::Display for CpuList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for &c in &self.0 {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == c => *end = c,
                _ => runs.push((c, c)),
            }
        }
        let parts: Vec<String> =
            runs.iter().map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse_and_print_as_the_kernel_writes_them() {
        let list = |s: &str| s.parse::<CpuList>().map(|l| l.0);
        assert_eq!(list("0-2,5, 3").unwrap(), [0, 1, 2, 3, 5]);
        assert_eq!(list("").unwrap(), Vec::<usize>::new());
        assert!(list("2-1").is_err() && list("a").is_err());
        assert_eq!(CpuList(vec![0, 1, 2, 5, 7, 8]).to_string(), "0-2,5,7-8");
        assert!(!allowed_cpus().0.is_empty());
    }

    #[test]
    fn each_skew_is_named_with_its_fix_and_a_quiet_machine_passes() {
        let quiet = Readings {
            cpus: 4,
            governors: vec!["performance".into(); 4],
            turbo: Some(false),
            aslr: Some(2),
            load_1min: Some(0.5),
            busy: None,
            isolated: CpuList(vec![3]),
            perf_event_paranoid: Some(2),
        };
        assert!(quiet.judge().iter().all(|f| f.verdict == Verdict::Ok), "{:?}", quiet.judge());
        let noisy = Readings {
            cpus: 2,
            governors: vec!["powersave".into(), "performance".into()],
            turbo: Some(true),
            aslr: Some(0),
            load_1min: Some(1.5),
            busy: None,
            isolated: CpuList::default(),
            perf_event_paranoid: Some(4),
        };
        let found = noisy.judge();
        let skews: Vec<&str> = found.iter().filter(|f| f.verdict == Verdict::Skews).map(|f| f.check.as_str()).collect();
        assert_eq!(skews, ["CPU governor", "turbo", "ASLR", "load"]);
        assert!(found.iter().filter(|f| f.verdict != Verdict::Ok).all(|f| f.fix.is_some()), "{found:?}");
        assert!(found[4].fix.as_deref().unwrap().contains("isolcpus=1"));
        // A VM that exposes nothing is not blamed for it.
        let vm = Readings { cpus: 2, ..Readings::default() };
        assert!(vm.judge().iter().all(|f| f.verdict != Verdict::Skews));
    }

    #[test]
    fn the_cpus_other_work_keeps_busy_outweigh_a_load_average_our_builds_raised() {
        let load = |r: &Readings| r.judge().into_iter().find(|f| f.check == "load").unwrap();
        let after_builds = Readings { cpus: 2, load_1min: Some(3.4), busy: Some(0.05), ..Readings::default() };
        assert_eq!(load(&after_builds).verdict, Verdict::Ok, "{:?}", load(&after_builds));
        let busy = Readings { cpus: 2, load_1min: Some(0.2), busy: Some(1.6), ..Readings::default() };
        assert_eq!(load(&busy).verdict, Verdict::Skews);
        assert!(load(&busy).state.contains("1.6 of 2 CPUs"), "{}", load(&busy).state);
        // user nice system idle iowait irq softirq steal
        assert_eq!(parse_cpu_times("cpu  100 0 50 800 50 0 0 0 0 0"), Some((150, 1000)));
        assert_eq!(parse_cpu_times("intr 1 2 3"), None);
    }
}
