//! Load for `crm-bench --suite http`: a closed loop of keep-alive connections, each sending
//! its next request when the previous answer arrives, with `wrk` doing the driving when it
//! is installed; and `pgbench -S` for the database's own ceiling in the same run.

use std::process::Command;
use std::time::{Duration, Instant};

/// One endpoint under load.
#[derive(Debug, Clone)]
pub struct Target {
    pub method: &'static str,
    pub url: String,
    pub token: Option<String>,
    /// A JSON body (POST).
    pub body: Option<String>,
}

/// What a pass measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Load {
    pub requests: u64,
    /// Answers other than 2xx (and transport errors).
    pub errors: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Drives `target` with `connections` keep-alive connections for `duration`: with wrk when it
/// is on the PATH, else with the built-in loop. Returns the driver's name and the figures.
pub async fn drive(target: &Target, connections: usize, duration: Duration) -> (&'static str, Load) {
    if let Some(load) = wrk(target, connections, duration) {
        return ("wrk", load);
    }
    ("built-in", closed_loop(target, connections, duration).await)
}

/// The built-in driver: one task and one connection per client.
pub async fn closed_loop(target: &Target, connections: usize, duration: Duration) -> Load {
    let started = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let target = target.clone();
            tokio::spawn(async move {
                let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                while started.elapsed() < duration {
                    let mut req = match target.method {
                        "POST" => client.post(&target.url),
                        _ => client.get(&target.url),
                    };
                    if let Some(token) = &target.token {
                        req = req.bearer_auth(token);
                    }
                    if let Some(body) = &target.body {
                        req = req.header("content-type", "application/json").body(body.clone());
                    }
                    let sent = Instant::now();
                    let ok = match req.send().await {
                        Ok(res) => {
                            let ok = res.status().is_success();
                            ok && res.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    errors += u64::from(!ok);
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut all, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (latencies, failed) = task.await.expect("load task");
        all.extend(latencies);
        errors += failed;
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort();
    let ms = |q: f64| all.get(((all.len().max(1) - 1) as f64 * q) as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3);
    Load {
        requests: all.len() as u64,
        errors,
        requests_per_sec: all.len() as f64 / seconds,
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
    }
}

/// Runs wrk (two threads) when it is installed.
pub fn wrk(target: &Target, connections: usize, duration: Duration) -> Option<Load> {
    let script = std::env::temp_dir().join(format!("crm-bench-{}.lua", std::process::id()));
    let mut lua = format!("wrk.method = \"{}\"\n", target.method);
    if let Some(token) = &target.token {
        lua.push_str(&format!("wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"));
    }
    if let Some(body) = &target.body {
        lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
        lua.push_str(&format!("wrk.body = [[{body}]]\n"));
    }
    std::fs::write(&script, lua).ok()?;
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{connections}"), &format!("-d{}s", duration.as_secs().max(1)), "--latency", "-s"])
        .arg(&script)
        .arg(&target.url)
        .output()
        .ok()?;
    std::fs::remove_file(&script).ok();
    out.status.success().then(|| parse_wrk(&String::from_utf8_lossy(&out.stdout)))?
}

/// Reads wrk's `--latency` report.
pub fn parse_wrk(report: &str) -> Option<Load> {
    let field = |prefix: &str| {
        report.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(|rest| rest.trim().to_string())
    };
    let duration_ms = |v: &str| {
        let v = v.trim();
        let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
        let n: f64 = n.parse().ok()?;
        Some(match unit {
            "us" => n / 1e3,
            "ms" => n,
            "s" => n * 1e3,
            "m" => n * 60e3,
            _ => return None,
        })
    };
    let requests = report
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())?;
    let errors = field("Non-2xx or 3xx responses:").and_then(|n| n.parse().ok()).unwrap_or(0);
    Some(Load {
        requests,
        errors,
        requests_per_sec: field("Requests/sec:")?.parse().ok()?,
        p50_ms: duration_ms(&field("50%")?)?,
        p99_ms: duration_ms(&field("99%")?)?,
    })
}

/// `pgbench -S -M prepared` (read-only, prepared) against a scratch database of the server
/// at `server_url` (a `postgres://…/db` URL), when pgbench is installed: transactions/s.
pub fn pgbench(server_url: &str, clients: usize, duration: Duration) -> Option<f64> {
    let (base, _) = server_url.rsplit_once('/')?;
    let db = format!("{base}/crm_bench_pgbench");
    let admin =
        Command::new("psql").arg(server_url).args(["-qc", "DROP DATABASE IF EXISTS crm_bench_pgbench"]).output();
    admin.ok()?;
    Command::new("psql").arg(server_url).args(["-qc", "CREATE DATABASE crm_bench_pgbench"]).output().ok()?;
    let init = Command::new("pgbench").args(["-i", "-q", "-s", "10"]).arg(&db).output().ok()?;
    if !init.status.success() {
        return None;
    }
    let run = Command::new("pgbench")
        .args(["-S", "-M", "prepared", "-j", "2", &format!("-c{clients}"), &format!("-T{}", duration.as_secs().max(1))])
        .arg(&db)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&run.stdout);
    text.lines().find_map(|l| l.strip_prefix("tps = ")).and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// Resident memory of this process in KiB: `(now, peak since the last [`reset_peak_rss`])`,
/// from `/proc/self/status` (Linux; `None` elsewhere).
pub fn rss_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status.lines().find_map(|l| l.strip_prefix(name)).and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Starts a new peak for [`rss_kib`] (Linux: `5` into `/proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 10s test @ http://127.0.0.1:3001/health
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.40ms    1.02ms  20.31ms   88.18%
  Latency Distribution
     50%    1.16ms
     75%    1.62ms
     90%    2.36ms
     99%  850.00us
  113594 requests in 10.00s, 27.12MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  11358.39
Transfer/sec:      2.71MB
";
        let load = parse_wrk(report).unwrap();
        assert_eq!(load.requests, 113_594);
        assert_eq!(load.errors, 3);
        assert!((load.requests_per_sec - 11_358.39).abs() < 1e-6);
        assert!((load.p50_ms - 1.16).abs() < 1e-9);
        assert!((load.p99_ms - 0.85).abs() < 1e-9);
        assert!(parse_wrk("garbage").is_none());
    }
}
