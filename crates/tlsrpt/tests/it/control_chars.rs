//! NUL and other control characters inside report JSON strings (`\u0000` is valid JSON,
//! but PostgreSQL refuses NUL in text): the report is stored with its original bytes, its
//! NULs replaced in the stored fields and recorded as a quirk; other control characters
//! are kept. The same on SQLite and PostgreSQL, from files and over HTTP, and never a
//! failed batch or a 500.

use serde_json::{Value, json};

use crate::support::{Backend, Sandbox, Summary, on_both_backends, simple_report};

on_both_backends!(async: nul_characters_are_stored_safely_with_the_original_bytes,);

/// A report whose strings (and one key) carry NUL and other control characters.
fn hostile(id: &str) -> Vec<u8> {
    let value = json!({
        "organization-name": "Nul\u{0}Org\u{1}",
        "date-range": {
            "start-datetime": "2026-03-01T00:00:00Z",
            "end-datetime": "2026-03-01T23:59:59Z"
        },
        "contact-info": "a\u{0}b",
        "report-id": format!("{id}\u{0}"),
        "x\u{0}key": 1,
        "policies": [{
            "policy": {
                "policy-type": "sts",
                "policy-string": ["version: STSv1", "mode: testing", "mx: mx.nul.example", "max_age: 86400"],
                "policy-domain": "nul.example",
                "mx-host": ["mx.nul.example"]
            },
            "summary": {
                "total-successful-session-count": 5,
                "total-failure-session-count": 2
            },
            "failure-details": [{
                "result-type": "certificate-expired",
                "sending-mta-ip": "192.0.2.1",
                "receiving-mx-hostname": "mx.nul.example",
                "receiving-mx-helo": "helo\u{0}",
                "failed-session-count": 2,
                "additional-information": "x\u{0}\u{1b}[31m y\u{7f}",
                "failure-reason-code": "\u{0}"
            }]
        }]
    });
    serde_json::to_vec(&value).unwrap()
}

/// A report whose policy domain carries a NUL: no domain name, so a rejection.
fn nul_domain() -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(&simple_report("Bad", "dom-1", "x", 1)).unwrap();
    value["policies"][0]["policy"]["policy-domain"] = json!("nul\u{0}.example");
    serde_json::to_vec(&value).unwrap()
}

async fn nul_characters_are_stored_safely_with_the_original_bytes(backend: Backend) {
    let sandbox = Sandbox::on(backend);
    let bytes = hostile("nul-1");
    assert!(
        bytes.windows(6).any(|w| w == br"\u0000"),
        "the JSON carries \\u0000"
    );
    let paths = [
        sandbox.write(
            "in/1-good.json",
            &simple_report("Good", "g1", "one.example", 1),
        ),
        sandbox.write("in/2-nul.json", &bytes),
        sandbox.write("in/3-nul-domain.json", &nul_domain()),
        sandbox.write(
            "in/4-good.json",
            &simple_report("Good", "g2", "two.example", 2),
        ),
    ];
    let paths: Vec<&std::path::Path> = paths.iter().map(|p| p.as_path()).collect();
    let (run, summary) = sandbox.ingest_json(&paths);
    assert_eq!(summary, Summary::new(3, 0, 1, 0), "{}", run.stderr());

    // The stored fields have U+FFFD for NUL; other control characters are kept.
    let listed = sandbox
        .run(["reports", "--json", "--domain", "nul.example"])
        .json();
    let stored = &listed["reports"][0];
    assert_eq!(stored["organization_name"], "Nul\u{FFFD}Org\u{1}");
    assert_eq!(stored["report_id"], "nul-1\u{FFFD}");
    let quirk = stored["quirks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["code"] == "nul-characters")
        .unwrap_or_else(|| panic!("no nul-characters quirk: {stored}"));
    // organization-name, contact-info, report-id, the key, receiving-mx-helo,
    // additional-information and failure-reason-code.
    assert_eq!(quirk["strings"], 7, "{quirk}");
    assert!(quirk["first"].as_str().is_some_and(|p| !p.contains('\0')));

    // The original bytes are kept as they came.
    let store = tlsrpt_store::Store::open(sandbox.database_url())
        .await
        .unwrap();
    let raw = store
        .report_json("Nul\u{FFFD}Org\u{1}", "nul-1\u{FFFD}")
        .await
        .unwrap()
        .expect("the report's JSON is kept");
    assert_eq!(raw, bytes);

    // The sessions count like any other report's.
    let stats: Value =
        serde_json::from_str(&sandbox.stats_json(&["--domain", "nul.example"])).unwrap();
    assert_eq!(stats["domains"][0]["successful_sessions"], 5);
    assert_eq!(stats["domains"][0]["failed_sessions"], 2);

    // A NUL where a domain name must be is a rejection with a reason, its bytes kept.
    let rejected = sandbox.rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let reason = rejected[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("policies[0].policy.policy-domain") && reason.contains("not a domain name"),
        "{reason}"
    );
    assert!(!reason.contains('\0'));
    assert_eq!(
        sandbox.raw(rejected[0]["id"].as_i64().unwrap()),
        nul_domain()
    );

    // The same over HTTP: stored and acknowledged, never a 500.
    let mut command = sandbox.command();
    command.args(["serve", "--listen", "127.0.0.1:0"]);
    let (mut child, port) = crate::https::spawn_listening(command);
    let reply = post_json(port, &hostile("nul-2")).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""stored":1"#), "{reply}");
    let raw = store
        .report_json("Nul\u{FFFD}Org\u{1}", "nul-2\u{FFFD}")
        .await
        .unwrap();
    assert_eq!(raw, Some(hostile("nul-2")));
}

/// POSTs `body` to `/tlsrpt` on `port`; the whole response.
async fn post_json(port: u16, body: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let head = format!(
        "POST /tlsrpt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         Content-Type: application/tlsrpt+json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response).into_owned()
}
