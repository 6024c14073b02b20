//! `https://` (rustls) and HTTP/2 against real servers on 127.0.0.1: a TLS server with a
//! certificate made for the test, trusted through `ca_file`; and h2c with `http2 = true`.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::Version;
use axum::Router;
use common::{endpoint, error_count, requests, serve, serve_tcp, TcpServer, Work};
use tokio_rustls::rustls;

/// A TLS server (ALPN h2 and http/1.1) answering 200, recording the HTTP version of each request.
struct TlsServer {
    url: String,
    ca_pem: String,
    versions: Arc<Mutex<Vec<Version>>>,
    _server: TcpServer,
}

fn tls_server() -> TlsServer {
    let key =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    let ca_pem = key.cert.pem();
    let cert = rustls::pki_types::CertificateDer::from(key.cert.der().to_vec());
    let private = rustls::pki_types::PrivateKeyDer::Pkcs8(
        rustls::pki_types::PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()),
    );
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], private)
    .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let versions = Arc::new(Mutex::new(Vec::new()));
    let seen = versions.clone();
    let app = Router::new().fallback(move |req: Request| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(req.version());
            "ok"
        }
    });
    let server = serve_tcp(move |tcp| {
        let (acceptor, app) = (acceptor.clone(), app.clone());
        async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
        }
    });
    TlsServer {
        url: format!("https://{}", server.addr),
        ca_pem,
        versions,
        _server: server,
    }
}

fn profile(base_url: &str, target_extra: &str) -> String {
    common::ProfileBuilder::new(base_url)
        .name("tls")
        .target("request_timeout", "2s")
        .target_line(target_extra)
        .load("users", 2)
        .raw("[[scenario]]\nname = \"s\"\nthink_time = \"20ms\"\n[[scenario.step]]\nrequest = \"GET /x\"\n")
        .toml()
}

#[test]
fn https_with_a_trusted_ca_works_and_negotiates_http2() {
    let _guard = common::shared();
    let server = tls_server();
    let w = Work::with_profile(&profile(&server.url, "ca_file = \"ca.pem\""));
    w.write("ca.pem", &server.ca_pem);
    let r = w.run_ok();
    let n = requests(&r, "GET /x");
    assert!(n > 5, "{}", endpoint(&r, "GET /x"));
    assert_eq!(common::total_errors(&r), 0, "{}", endpoint(&r, "GET /x"));
    let versions = server.versions.lock().unwrap().clone();
    assert!(
        !versions.is_empty() && versions.iter().all(|v| *v == Version::HTTP_2),
        "ALPN chose HTTP/2: {versions:?}"
    );
}

#[test]
fn an_untrusted_certificate_is_a_connect_error_and_insecure_accepts_it() {
    let _guard = common::shared();
    let server = tls_server();
    let w = Work::with_profile(&profile(&server.url, ""));
    let r = w.run_ok();
    let n = requests(&r, "GET /x");
    assert!(
        n > 0 && error_count(&r, "GET /x", "connect") == n,
        "every request failed verification: {}",
        endpoint(&r, "GET /x")
    );
    assert!(
        server.versions.lock().unwrap().is_empty(),
        "no request got through"
    );
    let w = Work::with_profile(&profile(&server.url, "insecure = true"));
    let r = w.run_ok();
    assert!(requests(&r, "GET /x") > 5);
    assert_eq!(common::total_errors(&r), 0);
}

#[test]
fn a_missing_or_bad_ca_file_is_a_config_error() {
    let toml = profile("https://127.0.0.1:9", "ca_file = \"nope.pem\"");
    let w = Work::with_profile(&toml);
    let at = format!("perfgate.toml:{}:", common::line_of(&toml, "ca_file"));
    w.perfgate()
        .args(["validate"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(at).and(predicates::str::contains("nope.pem")));
    w.write("bad.pem", "not a certificate");
    w.write(
        common::PROFILE,
        &profile("https://127.0.0.1:9", "ca_file = \"bad.pem\""),
    );
    w.perfgate()
        .args(["validate"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a PEM certificate"));
}

#[test]
fn http2_prior_knowledge_speaks_h2c_to_a_plain_server() {
    let _guard = common::shared();
    let versions = Arc::new(Mutex::new(Vec::new()));
    let seen = versions.clone();
    let server = serve(Router::new().fallback(move |req: Request| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(req.version());
            "ok"
        }
    }));
    let w = Work::with_profile(&profile(&server.url, "http2 = true"));
    let r = w.run_ok();
    assert_eq!(common::total_errors(&r), 0);
    let h2: Vec<Version> = std::mem::take(&mut *versions.lock().unwrap());
    assert!(
        !h2.is_empty() && h2.iter().all(|v| *v == Version::HTTP_2),
        "{h2:?}"
    );
    // Without it, HTTP/1.1.
    let w = Work::with_profile(&profile(&server.url, ""));
    let r = w.run_ok();
    assert_eq!(common::total_errors(&r), 0);
    let h1 = versions.lock().unwrap().clone();
    assert!(
        !h1.is_empty() && h1.iter().all(|v| *v == Version::HTTP_11),
        "{h1:?}"
    );
}

use predicates::prelude::PredicateBooleanExt;
