//! The report in a real browser: Debian's chromium, headless, driven over the DevTools protocol
//! (a websocket). A page `compare` wrote by default, and a page `report` wrote from a results file
//! laced with markup (plus a matrix file), must load with no console error, every image decoded,
//! every results-table cell filled, and no injected markup alive; and at 1280×800 the answer and
//! the headline figure must start on the first screen. A full-page screenshot and one of the first
//! screen are left in target/artifacts/ for CI to keep. scripts/test.sh installs chromium when it is missing.

mod common;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

use common::{abibench, python_flags, pythons, run_ok};

const EVIL: &str = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">&'\"";

/// A headless chromium with its own throw-away profile; killed on drop.
struct Browser {
    child: Child,
    profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn launch() -> Browser {
        let exe = std::env::var("ABIBENCH_CHROMIUM").unwrap_or_else(|_| "chromium".into());
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(&exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {exe} ({e}); scripts/test.sh installs Debian's chromium"));
        Browser { child, profile }
    }

    /// The browser's DevTools websocket, from the port file chromium writes into its profile.
    fn devtools_url(&mut self) -> String {
        let file = self.profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some((port, path)) = std::fs::read_to_string(&file).ok().as_deref().and_then(|t| t.split_once('\n'))
            {
                if !path.trim().is_empty() {
                    return format!("ws://127.0.0.1:{}{}", port.trim(), path.trim());
                }
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("chromium exited ({status}) before opening its DevTools port");
            }
            assert!(Instant::now() < deadline, "chromium wrote no {} in time", file.display());
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A minimal DevTools client: commands get answers by id; events are kept in arrival order.
struct DevTools {
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    events: Vec<Value>,
}

impl DevTools {
    fn connect(url: &str) -> DevTools {
        let (ws, _) = tungstenite::connect(url).unwrap_or_else(|e| panic!("DevTools websocket {url}: {e}"));
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        }
        DevTools { ws, next_id: 0, events: Vec::new() }
    }

    fn read(&mut self) -> Value {
        loop {
            match self.ws.read() {
                Ok(Message::Text(t)) => return serde_json::from_str(&t).unwrap(),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e)) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    panic!("no answer from chromium within 60 s")
                }
                Err(e) => panic!("DevTools websocket: {e}"),
            }
        }
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let mut msg = json!({"id": self.next_id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap();
        loop {
            let m = self.read();
            if m["id"] == json!(self.next_id) {
                assert!(m.get("error").is_none(), "{method}: {}", m["error"]);
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    fn wait_event(&mut self, session: &str, method: &str) {
        let seen = |m: &Value| m["method"] == method && m["sessionId"] == session;
        while !self.events.iter().any(seen) {
            let m = self.read();
            self.events.push(m);
        }
    }
}

/// Console errors, uncaught exceptions and browser log errors (e.g. a resource that failed to load).
fn errors(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|m| {
            let p = &m["params"];
            match m["method"].as_str()? {
                "Runtime.exceptionThrown" => Some(format!("exception: {}", p["exceptionDetails"])),
                "Runtime.consoleAPICalled" if matches!(p["type"].as_str(), Some("error" | "assert")) => {
                    Some(format!("console.{}: {}", p["type"], p["args"]))
                }
                "Log.entryAdded" if p["entry"]["level"] == "error" => {
                    Some(format!("log: {} {}", p["entry"]["text"], p["entry"]["url"]))
                }
                _ => None,
            }
        })
        .collect()
}

/// What the page reports about itself once loaded: every image decoded, the results table complete.
const CHECK: &str = r#"(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  const t = document.getElementById('results');
  const cells = t ? [...t.querySelectorAll('td.cell')] : [];
  return {
    images: imgs.map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0})),
    cells: cells.length,
    empty_cells: cells.filter(td => td.textContent.trim() === '').length,
    rows: t ? t.querySelectorAll('tbody tr:not(.group)').length : 0,
    scripts: document.scripts.length,
    pwned: window.__pwned === undefined ? null : window.__pwned,
    raw_link: document.getElementById('raw-json') ? document.getElementById('raw-json').href : null,
    height: document.documentElement.scrollHeight,
  };
})()"#;

/// Opens `page` in a new tab of a `width` × `height` viewport; returns the tab's session.
fn open(dt: &mut DevTools, page: &Path, width: u32, height: u32) -> String {
    let target = dt.call(None, "Target.createTarget", json!({"url": "about:blank"}))["targetId"].clone();
    let session = dt.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}))["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
        dt.call(Some(&session), domain, json!({}));
    }
    dt.call(
        Some(&session),
        "Emulation.setDeviceMetricsOverride",
        json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
    );
    let url = format!("file://{}", abibench::export::page::path_url(&page.to_string_lossy()));
    dt.call(Some(&session), "Page.navigate", json!({"url": url}));
    dt.wait_event(&session, "Page.loadEventFired");
    session
}

/// Loads `page` in a new tab and checks it; returns the tab's session for a screenshot.
fn check_page(dt: &mut DevTools, page: &Path, expect_cells: usize, expect_rows: usize, expect_images: usize) -> String {
    let first = dt.events.len();
    let session = open(dt, page, 1400, 1000);
    let got = dt.call(
        Some(&session),
        "Runtime.evaluate",
        json!({"expression": CHECK, "awaitPromise": true, "returnByValue": true}),
    );
    let v = &got["result"]["value"];
    assert!(got.get("exceptionDetails").is_none(), "{}: check script failed: {got}", page.display());

    let errs = errors(&dt.events[first..]);
    assert!(errs.is_empty(), "{}: browser errors:\n{}", page.display(), errs.join("\n"));
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), expect_images, "{}: images {images:?}", page.display());
    let broken: Vec<&Value> = images.iter().filter(|i| i["ok"] != json!(true)).collect();
    assert!(broken.is_empty(), "{}: images not loaded: {broken:?}", page.display());
    assert_eq!(v["cells"], json!(expect_cells), "{}: results table cells", page.display());
    assert_eq!(v["rows"], json!(expect_rows), "{}: results table rows", page.display());
    assert_eq!(v["empty_cells"], json!(0), "{}: empty cells", page.display());
    assert_eq!(v["scripts"], json!(0), "{}: the page has no scripts, so any is injected", page.display());
    assert_eq!(v["pwned"], Value::Null, "{}: injected markup ran", page.display());
    // The raw-data link resolves to the results file beside the report.
    let link = v["raw_link"].as_str().unwrap_or_else(|| panic!("{}: no raw-data link", page.display())).to_string();
    assert!(link.starts_with("file://") && link.ends_with(".json"), "{link}");
    session
}

/// Writes the whole page (not just the viewport) as a PNG.
fn screenshot(dt: &mut DevTools, session: &str, path: &Path) {
    let metrics = dt.call(Some(session), "Page.getLayoutMetrics", json!({}));
    let height = metrics["cssContentSize"]["height"].as_f64().unwrap();
    let shot = dt.call(
        Some(session),
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true,
               "clip": {"x": 0, "y": 0, "width": 1400, "height": height, "scale": 1}}),
    );
    let png = data_encoding::BASE64.decode(shot["data"].as_str().unwrap().as_bytes()).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, png).unwrap();
}

/// Where the answer and the headline figure start, in page pixels (`null` when missing).
const FIRST_SCREEN: &str = r#"(async () => {
  await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
  const top = id => { const e = document.getElementById(id);
                      return e ? e.getBoundingClientRect().top + window.scrollY : null; };
  return {answer: top('answer'), headline: top('headline')};
})()"#;

/// What a reader sees before scrolling, on a laptop: the answer and the headline figure must
/// start on it. Leaves that screen as `shot`.
fn check_first_screen(dt: &mut DevTools, page: &Path, shot: &Path) {
    let (width, height) = (1280, 800);
    let session = open(dt, page, width, height);
    let got = dt.call(
        Some(&session),
        "Runtime.evaluate",
        json!({"expression": FIRST_SCREEN, "awaitPromise": true, "returnByValue": true}),
    );
    assert!(got.get("exceptionDetails").is_none(), "{}: first-screen script failed: {got}", page.display());
    let shot_png = dt.call(
        Some(&session),
        "Page.captureScreenshot",
        json!({"format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
    );
    let png = data_encoding::BASE64.decode(shot_png["data"].as_str().unwrap().as_bytes()).unwrap();
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    std::fs::write(shot, png).unwrap();
    let v = &got["result"]["value"];
    for (id, what) in [("answer", "the answer section"), ("headline", "the headline figure")] {
        let top = v[id].as_f64().unwrap_or_else(|| {
            panic!("{}: no element with id=\"{id}\" ({what} must carry it); see {}", page.display(), shot.display())
        });
        assert!(
            top < f64::from(height),
            "{}: {what} (#{id}) starts at {top} px, below the first {width}×{height} screen; see {}",
            page.display(),
            shot.display()
        );
    }
}

/// Where CI collects artifacts: target/artifacts (the test's own temp dir is target/tmp).
fn artifacts() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("artifacts")
}

fn only_json(dir: &Path) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with("matrix-"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.pop().unwrap()
}

/// (cells, rows) the results table must have: a row per scenario and interpreter where some
/// mode ran (the others are a line each), a cell per mode.
fn table_size(results: &Value) -> (usize, usize) {
    let scenarios: usize =
        results["groups"].as_array().unwrap().iter().map(|g| g["scenarios"].as_array().unwrap().len()).sum();
    let cells = results["cells"].as_array().unwrap();
    let interps = results["interpreters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| cells.iter().any(|c| c["interpreter"] == i["name"] && c["status"] == "ok"))
        .count();
    let mut modes: Vec<&str> = cells.iter().map(|c| c["mode"].as_str().unwrap()).collect();
    modes.sort();
    modes.dedup();
    (scenarios * interps * modes.len(), scenarios * interps)
}

#[test]
fn report_pages_render_cleanly_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("results");
    let pys = pythons();
    let mut targets = vec!["--mode", "unlimited", "--mode", "abi3-py38", "--mode", "abi3-py312"];
    targets.extend(python_flags(&pys));
    // The matrix first, so the report compare writes has its matrix section.
    let mut args = vec!["matrix", "--ascii", "--out", out.to_str().unwrap()];
    args.extend(&targets);
    run_ok(&mut abibench(&args));
    let mut args = vec!["compare", "--quick", "--ascii", "--no-provision", "--out", out.to_str().unwrap()];
    args.extend(["--scenario", "containers", "--scenario", "compute"]);
    args.extend(&targets);
    run_ok(&mut abibench(&args));
    // compare wrote the report by default, beside the results file and named after it.
    let json_path = only_json(&out);
    let page = json_path.with_extension("").join("report.html");
    assert!(page.is_file(), "no default report at {}", page.display());
    let mut results: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    let (cells, rows) = table_size(&results);
    let groups = results["groups"].as_array().unwrap().len();
    // Overhead, heatmap, one figure per group, and the matrix.
    let plots = 3 + groups;

    // The same run with markup in every free-text field, under a directory whose name needs
    // escaping, reported with a matrix.
    results["groups"][0]["title"] = json!(EVIL);
    results["groups"][0]["description"] = json!(EVIL);
    results["host"]["cpu_model"] = json!(EVIL);
    results["host"]["hostname"] = json!(EVIL);
    for g in results["groups"].as_array_mut().unwrap() {
        if let Some(c) = g["comparisons"].as_array_mut().unwrap().first_mut() {
            c["label"] = json!(EVIL);
        }
    }
    results["interpreters"][0]["build"]["config_args"] = json!(EVIL);
    results["run"]["argv"].as_array_mut().unwrap().push(json!(EVIL));
    let weird = tmp.path().join("we<i>rd &\"dir' #1");
    std::fs::create_dir_all(&weird).unwrap();
    let evil_json = weird.join("run.json");
    std::fs::write(&evil_json, results.to_string()).unwrap();
    // The real matrix, with markup where an interpreter's name goes.
    let matrix = weird.join("matrix.json");
    let real = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("matrix-"));
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(real.expect("no matrix file")).unwrap()).unwrap();
    m["cells"][0]["interpreter"] = json!(EVIL);
    std::fs::write(&matrix, m.to_string()).unwrap();
    let report = run_ok(&mut abibench(&["report", evil_json.to_str().unwrap(), "--matrix", matrix.to_str().unwrap()]));
    let said = String::from_utf8_lossy(&report.stderr);
    assert!(said.contains("report.html") && said.contains(" s"), "report should say where and how long: {said}");
    let evil_page = weird.join("run").join("report.html");

    let mut browser = Browser::launch();
    let mut dt = DevTools::connect(&browser.devtools_url());
    let session = check_page(&mut dt, &page, cells, rows, plots);
    screenshot(&mut dt, &session, &artifacts().join("report.png"));
    check_first_screen(&mut dt, &page, &artifacts().join("first-screen.png"));
    check_page(&mut dt, &evil_page, cells, rows, plots);
}
