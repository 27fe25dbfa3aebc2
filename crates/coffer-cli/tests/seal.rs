//! The production path: a server started without `--dev` is sealed until `coffer operator
//! init`, and after every restart until enough Shamir shares have been submitted.

mod common;

use common::{Creds, Opts, Server, expect_err, run_cli, run_cli_input, unique};
use serde_json::json;

/// What `coffer operator init` printed.
struct Init {
    shares: Vec<String>,
    root: Creds,
}

/// Runs `coffer operator init` against `s` and parses its output.
async fn init(s: &Server, shares: u8, threshold: u8) -> Init {
    let (ok, out, err) = run_cli(
        &[
            "operator",
            "init",
            "--endpoint",
            &s.url,
            "--shares",
            &shares.to_string(),
            "--threshold",
            &threshold.to_string(),
        ],
        &[],
    )
    .await;
    assert!(ok, "init failed\nstdout:\n{out}\nstderr:\n{err}");
    let mut parsed = Vec::new();
    for line in out.lines() {
        if let Some(rest) = line.trim().strip_prefix("Unseal share ") {
            let (n, share) = rest.split_once(": ").expect("share line");
            assert_eq!(
                n.parse::<usize>().expect("share number"),
                parsed.len() + 1,
                "{out}"
            );
            assert!(share.starts_with("coffer-share-v1:"), "{share}");
            parsed.push(share.trim().to_owned());
        }
    }
    assert_eq!(parsed.len(), usize::from(shares), "{out}");
    let root = common::parse_creds(&out).expect("credentials in init output");
    assert_eq!(root.account_id.len(), 12, "{out}");
    assert!(root.access_key_id.starts_with("AKIA"), "{out}");
    Init {
        shares: parsed,
        root,
    }
}

/// `coffer operator unseal --endpoint URL SHARE`; returns (ok, stdout, stderr).
async fn unseal_cli(s: &Server, share: &str) -> (bool, String, String) {
    run_cli(&["operator", "unseal", "--endpoint", &s.url, share], &[]).await
}

/// Submits `shares` with `coffer operator unseal`, waits until ready, and reads `name`'s
/// current value as `creds`.
async fn unseal_and_read(
    s: &Server,
    shares: &[&String],
    creds: &Creds,
    name: &str,
) -> Option<String> {
    for share in shares {
        let (ok, out, err) = unseal_cli(s, share).await;
        assert!(ok, "{out}{err}");
    }
    s.wait_ready().await;
    s.client(creds)
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .expect("readable after unseal")
        .secret_string()
        .map(str::to_owned)
}

/// A signed request with any credentials (a sealed server answers before checking them).
async fn sealed_probe(s: &Server) -> common::Reply {
    let creds = Creds {
        account_id: String::new(),
        access_key_id: "AKIAPROBE00000000000".into(),
        secret_access_key: "probe".into(),
    };
    s.call(&creds, "secretsmanager.ListSecrets", &json!({}))
        .await
}

#[tokio::test]
async fn full_lifecycle_init_restart_unseal() {
    let s = Server::start(Opts::prod()).await;
    assert!(
        s.creds.is_none(),
        "a production start prints no credentials"
    );

    // Uninitialized: sealed, API answers 503.
    let st = s.status().await;
    assert_eq!(st["initialized"], false);
    assert_eq!(st["sealed"], true);
    let r = sealed_probe(&s).await;
    r.assert_error(503, "ServiceUnavailableException");
    assert!(r.message().contains("sealed"), "{r:?}");
    // Even an unsigned request learns the server is sealed, not that it lacks a signature.
    let mut unsigned = common::SignedRequest::new(
        &s,
        &Creds {
            account_id: String::new(),
            access_key_id: "AKIAPROBE00000000000".into(),
            secret_access_key: "probe".into(),
        },
        "secretsmanager.ListSecrets",
        b"{}".to_vec(),
    );
    unsigned.remove_header("authorization");
    unsigned
        .send()
        .await
        .assert_error(503, "ServiceUnavailableException");
    let (code, _) = s.get_json("/readyz").await;
    assert_eq!(code, 503);
    assert!(s.log().contains("not initialized"), "{}", s.log());
    // Unseal before init is refused.
    let (ok, _, err) = unseal_cli(&s, "coffer-share-v1:whatever").await;
    assert!(!ok);
    assert!(err.contains("not initialized"), "{err}");

    // Invalid parameters leave it uninitialized.
    let (ok, _, err) = run_cli(
        &[
            "operator",
            "init",
            "--endpoint",
            &s.url,
            "--shares",
            "2",
            "--threshold",
            "3",
        ],
        &[],
    )
    .await;
    assert!(!ok, "threshold above shares must fail");
    assert!(err.contains("InvalidParameterException"), "{err}");
    assert_eq!(s.status().await["initialized"], false);

    let i = init(&s, 5, 3).await;
    let st = s.status().await;
    assert_eq!(st["initialized"], true);
    assert_eq!(st["sealed"], false);
    assert_eq!(st["mode"], "shamir");
    assert_eq!(st["threshold"], 3);
    assert_eq!(st["shares"], 5);
    s.wait_ready().await;

    let name = unique("persisted");
    let c = s.client(&i.root);
    c.create_secret()
        .name(&name)
        .secret_string("survives restarts")
        .send()
        .await
        .expect("create");

    // Init twice fails.
    let (ok, _, err) = run_cli(&["operator", "init", "--endpoint", &s.url], &[]).await;
    assert!(!ok);
    assert!(err.contains("already initialized"), "{err}");

    // Restart: sealed again.
    let s = s.restart(Opts::prod()).await;
    let st = s.status().await;
    assert_eq!(st["initialized"], true);
    assert_eq!(st["sealed"], true);
    assert_eq!(st["progress"], 0);
    let c = s.client(&i.root);
    let m = expect_err(
        c.get_secret_value().secret_id(&name).send().await,
        "ServiceUnavailableException",
    );
    assert!(m.contains("sealed"), "{m}");

    // A garbled share is rejected and does not count.
    for bad in [
        "coffer-share-v1:garbage",
        "not-a-share",
        "",
        "coffer-share-v1:",
    ] {
        let (code, v) = s
            .post_json("/coffer/v1/sys/unseal", &json!({"share": bad}))
            .await;
        assert_eq!(code, 400, "{bad:?}: {v}");
        assert_eq!(v["__type"], "InvalidParameterException", "{bad:?}: {v}");
    }
    let (ok, _, err) = unseal_cli(&s, "coffer-share-v1:garbage").await;
    assert!(!ok);
    assert!(err.contains("InvalidParameterException"), "{err}");
    assert_eq!(s.status().await["progress"], 0);
    // A truncated real share is rejected too.
    let truncated = &i.shares[0][..i.shares[0].len() - 4];
    let (code, v) = s
        .post_json("/coffer/v1/sys/unseal", &json!({"share": truncated}))
        .await;
    assert_eq!(code, 400, "{v}");
    // A malformed body.
    let (code, v) = s
        .post_json("/coffer/v1/sys/unseal", &json!({"nope": 1}))
        .await;
    assert_eq!(code, 400, "{v}");

    // Two shares: still sealed, progress 2 (a repeated share counts once).
    let (ok, out, err) = unseal_cli(&s, &i.shares[0]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("progress:    1"), "{out}");
    let (ok, _, _) = unseal_cli(&s, &i.shares[0]).await;
    assert!(ok);
    assert_eq!(
        s.status().await["progress"],
        1,
        "a repeated share counts once"
    );
    let (ok, out, err) = unseal_cli(&s, &i.shares[3]).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("sealed:      true"), "{out}");
    let st = s.status().await;
    assert_eq!(st["sealed"], true);
    assert_eq!(st["progress"], 2);
    sealed_probe(&s)
        .await
        .assert_error(503, "ServiceUnavailableException");

    // The third, from standard input: unsealed.
    let (ok, out, err) = run_cli_input(
        &["operator", "unseal", "--endpoint", &s.url],
        &[],
        Some(&format!("{}\n", i.shares[4])),
    )
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("sealed:      false"), "{out}");
    s.wait_ready().await;
    let st = s.status().await;
    assert_eq!(st["sealed"], false);
    assert_eq!(st["progress"], 0);
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("readable after unseal");
    assert_eq!(g.secret_string(), Some("survives restarts"));
    // Once unsealed, more shares change nothing.
    let (ok, _, _) = unseal_cli(&s, &i.shares[1]).await;
    assert!(ok);
    assert_eq!(s.status().await["sealed"], false);

    // Status via the CLI.
    let (ok, out, _) = run_cli(&["operator", "status", "--endpoint", &s.url], &[]).await;
    assert!(ok);
    assert!(
        out.contains("initialized: true") && out.contains("sealed:      false"),
        "{out}"
    );
    assert!(out.contains("threshold:   3 of 5"), "{out}");

    // `coffer operator seal` seals the running server.
    let env = [
        ("AWS_ACCESS_KEY_ID", i.root.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", i.root.secret_access_key.as_str()),
    ];
    let (ok, out, err) = run_cli(&["operator", "seal", "--endpoint", &s.url], &env).await;
    assert!(ok, "{out}{err}");
    assert!(out.contains("Sealed."), "{out}");
    assert_eq!(s.status().await["sealed"], true);
    let (code, _) = s.get_json("/readyz").await;
    assert_eq!(code, 503);
    let m = expect_err(
        c.get_secret_value().secret_id(&name).send().await,
        "ServiceUnavailableException",
    );
    assert!(m.contains("sealed"), "{m}");
    // Sealing a sealed server: the admin key can't be checked, so it is refused with 503.
    let (ok, _, err) = run_cli(&["operator", "seal", "--endpoint", &s.url], &env).await;
    assert!(!ok);
    assert!(err.contains("ServiceUnavailableException"), "{err}");
    // And unsealing works again without a restart.
    for share in [&i.shares[1], &i.shares[2], &i.shares[0]] {
        let (ok, out, err) = unseal_cli(&s, share).await;
        assert!(ok, "{out}{err}");
    }
    s.wait_ready().await;
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("readable again");
    assert_eq!(g.secret_string(), Some("survives restarts"));

    // --dev on a Shamir-initialised data directory refuses to start.
    let dir = s.stop();
    match Server::try_start_in(dir, Opts::dev()).await {
        Ok(_) => panic!("--dev must refuse a Shamir data directory"),
        Err((_dir, msg)) => assert!(msg.contains("Shamir"), "{msg}"),
    }
}

#[tokio::test]
async fn shares_of_another_server_do_not_unseal() {
    let a = Server::start(Opts::prod()).await;
    let b = Server::start(Opts::prod()).await;
    let ia = init(&a, 3, 2).await;
    let ib = init(&b, 3, 2).await;
    assert_ne!(ia.shares, ib.shares);
    let name = unique("mine");
    a.client(&ia.root)
        .create_secret()
        .name(&name)
        .secret_string("a")
        .send()
        .await
        .unwrap();
    drop(b);

    let a = a.restart(Opts::prod()).await;
    assert_eq!(a.status().await["sealed"], true);
    // Two shares of the other server: reaching the threshold fails, progress resets.
    let (code, v) = a
        .post_json("/coffer/v1/sys/unseal", &json!({"share": ib.shares[0]}))
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["progress"], 1);
    let (code, v) = a
        .post_json("/coffer/v1/sys/unseal", &json!({"share": ib.shares[1]}))
        .await;
    assert_eq!(code, 400, "{v}");
    assert_eq!(v["__type"], "InvalidParameterException");
    assert!(v["message"].as_str().unwrap_or("").contains("reset"), "{v}");
    let st = a.status().await;
    assert_eq!(st["sealed"], true);
    assert_eq!(st["progress"], 0);

    // One of ours plus one of theirs fails too. (A share with the same index as one already
    // submitted only replaces nothing, so try theirs until one with another index is taken.)
    let (ok, _, _) = unseal_cli(&a, &ia.shares[0]).await;
    assert!(ok);
    let mut rejected = false;
    for theirs in &ib.shares {
        let (code, v) = a
            .post_json("/coffer/v1/sys/unseal", &json!({"share": theirs}))
            .await;
        if code == 400 {
            assert_eq!(v["__type"], "InvalidParameterException", "{v}");
            rejected = true;
            break;
        }
        assert_eq!(v["progress"], 1, "{v}");
    }
    assert!(rejected, "a foreign share must spoil the unseal");
    assert_eq!(a.status().await["progress"], 0);
    assert_eq!(a.status().await["sealed"], true);

    // Ours, any two, work.
    let value = unseal_and_read(&a, &[&ia.shares[2], &ia.shares[1]], &ia.root, &name).await;
    assert_eq!(value.as_deref(), Some("a"));
}

#[tokio::test]
async fn dev_mode_restart_keeps_data_and_has_no_shares() {
    let s = Server::dev().await;
    let root = s.root();
    assert_eq!(root.account_id.len(), 12);
    assert!(
        s.log().contains("--dev"),
        "dev mode warns loudly: {}",
        s.log()
    );
    let st = s.status().await;
    assert_eq!(st["mode"], "dev");
    assert_eq!(st["sealed"], false);
    let name = unique("dev");
    s.client(&root)
        .create_secret()
        .name(&name)
        .secret_string("kept")
        .send()
        .await
        .unwrap();
    let other = s.create_account(&root).await;
    s.client(&other)
        .create_secret()
        .name(&name)
        .secret_string("other's")
        .send()
        .await
        .unwrap();
    // Unseal and init make no sense in dev mode.
    let (ok, _, err) = unseal_cli(&s, "coffer-share-v1:x").await;
    assert!(!ok);
    assert!(err.contains("dev"), "{err}");
    let (ok, _, err) = run_cli(&["operator", "init", "--endpoint", &s.url], &[]).await;
    assert!(!ok);
    assert!(err.contains("already initialized"), "{err}");

    let s = s.restart(Opts::dev()).await;
    assert!(s.creds.is_none(), "credentials are shown only once");
    let g = s
        .client(&root)
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("data survives");
    assert_eq!(g.secret_string(), Some("kept"));
    let g = s
        .client(&other)
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("accounts survive");
    assert_eq!(g.secret_string(), Some("other's"));
}

/// Runs `coffer operator rekey` with `current` shares on standard input; returns the new
/// shares it printed.
async fn rekey(s: &Server, shares: u8, threshold: u8, current: &[&String]) -> Vec<String> {
    let input: String = current.iter().map(|s| format!("{s}\n")).collect();
    let (ok, out, err) = run_cli_input(
        &[
            "operator",
            "rekey",
            "--endpoint",
            &s.url,
            "--shares",
            &shares.to_string(),
            "--threshold",
            &threshold.to_string(),
        ],
        &[],
        Some(&input),
    )
    .await;
    assert!(ok, "rekey failed\nstdout:\n{out}\nstderr:\n{err}");
    let new: Vec<String> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("New unseal share "))
        .map(|rest| rest.split_once(": ").expect("share line").1.to_owned())
        .collect();
    assert_eq!(new.len(), usize::from(shares), "{out}");
    new
}

#[tokio::test]
async fn rekey_replaces_the_shares_and_keeps_the_data() {
    let s = Server::start(Opts::prod()).await;
    let i = init(&s, 3, 2).await;
    let name = unique("rekeyed");
    s.client(&i.root)
        .create_secret()
        .name(&name)
        .secret_string("kept across rekeys")
        .send()
        .await
        .expect("create");

    // A wrong share spoils the rekey and changes nothing.
    let other = Server::start(Opts::prod()).await;
    let foreign = init(&other, 3, 2).await;
    let (ok, _, err) = run_cli_input(
        &[
            "operator",
            "rekey",
            "--endpoint",
            &s.url,
            "--shares",
            "4",
            "--threshold",
            "3",
        ],
        &[],
        Some(&format!("{}\n{}\n", i.shares[0], foreign.shares[1])),
    )
    .await;
    assert!(!ok);
    assert!(err.contains("do not reconstruct"), "{err}");

    let new = rekey(&s, 4, 3, &[&i.shares[0], &i.shares[2]]).await;
    assert!(new.iter().all(|n| !i.shares.contains(n)));
    // Twice in a row works too (the second rekey starts from the wrapped root).
    let newer = rekey(&s, 4, 3, &[&new[3], &new[0], &new[1]]).await;

    // After a restart: the old shares (of both generations) no longer unseal, the newest do.
    let dir = s.stop();
    let s = Server::start_in(dir, Opts::prod()).await;
    assert_eq!(s.status().await["threshold"], 3);
    // All three original shares (they still reconstruct the old key, which is not the
    // unseal key any more), then three of the first rekey's: both refused.
    for generation in [&i.shares[..], &new[..3]] {
        let mut last = (true, String::new());
        for share in generation {
            let (ok, _, err) = unseal_cli(&s, share).await;
            last = (ok, err);
        }
        assert!(!last.0, "an old generation of shares must not unseal");
        assert!(last.1.contains("do not reconstruct"), "{}", last.1);
        assert_eq!(s.status().await["sealed"], true);
    }
    let value = unseal_and_read(&s, &[&newer[2], &newer[0], &newer[3]], &i.root, &name).await;
    assert_eq!(value.as_deref(), Some("kept across rekeys"));
    drop(other);
}

#[tokio::test]
async fn migrate_seal_from_dev_key_file_to_shamir_shares() {
    let s = Server::start(Opts::dev()).await;
    let root = s.creds.clone().expect("dev credentials");
    let name = unique("migrated");
    s.client(&root)
        .create_secret()
        .name(&name)
        .secret_string("moved to shares")
        .send()
        .await
        .expect("create");
    let env = [
        ("AWS_ACCESS_KEY_ID", root.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", root.secret_access_key.as_str()),
    ];
    // Only an admin key may migrate, and to kms only with an external KMS configured.
    let (ok, _, err) = run_cli(
        &[
            "operator",
            "migrate-seal",
            "--endpoint",
            &s.url,
            "--to",
            "kms",
        ],
        &env,
    )
    .await;
    assert!(!ok);
    assert!(err.contains("No external KMS is configured"), "{err}");
    let (ok, out, err) = run_cli(
        &[
            "operator",
            "migrate-seal",
            "--endpoint",
            &s.url,
            "--to",
            "shamir",
            "--shares",
            "3",
            "--threshold",
            "2",
        ],
        &env,
    )
    .await;
    assert!(ok, "{out}{err}");
    let shares: Vec<String> = out
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Unseal share "))
        .map(|r| r.split_once(": ").expect("share line").1.to_owned())
        .collect();
    assert_eq!(shares.len(), 3, "{out}");

    // The plaintext dev key file is gone; the next start is a production start: sealed
    // until two shares, then the data is there.
    let dir = s.stop();
    assert!(!dir.path().join("data").join("dev-root.key").exists());
    match Server::try_start_in(dir, Opts::dev()).await {
        Ok(_) => panic!("--dev must refuse a data directory migrated to shares"),
        Err((dir, msg)) => {
            assert!(msg.contains("Shamir"), "{msg}");
            let s = Server::start_in(dir, Opts::prod()).await;
            assert_eq!(s.status().await["sealed"], true);
            let value = unseal_and_read(&s, &[&shares[2], &shares[0]], &root, &name).await;
            assert_eq!(value.as_deref(), Some("moved to shares"));
        }
    }
}
