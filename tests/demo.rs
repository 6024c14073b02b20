//! End to end against the demo ticketing service (in process): a profile like the repository's
//! own perfgate.toml runs with zero errors and reaches every endpoint.

mod common;

use common::*;
use perfgate_demo::{app, DemoConfig};

#[test]
fn the_demo_profile_runs_clean_against_the_demo_service() {
    let _machine = shared();
    let server = serve(app(DemoConfig::default()));
    let work = Work::with_profile(&format!(
        r#"
name = "tickets"

[target]
base_url = "{url}"
request_timeout = "5s"
# One API key for everyone, so that the search's rate limit (20/s per key) is reached.
headers = {{ "User-Agent" = "perfgate", "X-Api-Key" = "perfgate-shared" }}

[load]
model = "closed"
users = 20
duration = "3s"
seed = 42

[[data]]
name = "accounts"
file = "accounts.csv"

[[scenario]]
name = "browse"
weight = 70
think_time = "0ms..40ms"

[[scenario.step]]
request = "GET /api/v1/shows/?page={{{{random_int(1,10)}}}}"
name = "GET /api/v1/shows/"
expect = {{ status = [200] }}
capture = {{ show_id = "json:$.results[0].id" }}

[[scenario.step]]
request = "GET /api/v1/shows/{{{{show_id}}}}/"
name = "GET /api/v1/shows/[id]/"
expect = {{ status = [200], body_contains = "performers" }}

[[scenario]]
name = "checkout"
weight = 20
think_time = "0ms..40ms"

[[scenario.on_start]]
request = "POST /auth/login"
json = {{ username = "{{{{accounts.username}}}}", password = "{{{{accounts.password}}}}" }}
capture = {{ token = "json:$.token" }}

[[scenario.step]]
request = "GET /api/v1/shows/?page={{{{random_int(1,10)}}}}"
name = "GET /api/v1/shows/"
capture = {{ show_id = "json:$.results[1].id" }}

[[scenario.step]]
request = "POST /validate-promo/"
json = {{ code = "SAVE10" }}

[[scenario.step]]
request = "POST /checkout/"
headers = {{ Authorization = "Bearer {{{{token}}}}" }}
json = {{ show_id = "{{{{show_id}}}}", quantity = 2, promo_code = "SAVE10" }}
expect = {{ status = [201] }}

[[scenario]]
name = "landing"
weight = 10
think_time = "0ms..40ms"

[[scenario.step]]
request = "GET /api/v1/featured-shows/"

[[scenario.step]]
request = "GET /api/v1/active-cities/"

[[scenario.step]]
request = "GET /api/v1/search/?q=rock"
name = "GET /api/v1/search/"
expect = {{ status = [200, 429] }}
"#,
        url = server.url
    ));
    let mut csv = String::from("username,password\n");
    for i in 1..=20 {
        csv.push_str(&format!(
            "user{i:04},{}\n",
            perfgate_demo::account_password(&format!("user{i:04}")).expect("a demo account")
        ));
    }
    work.write("accounts.csv", &csv);

    let result = work.run_ok();
    let names = [
        "GET /api/v1/shows/",
        "GET /api/v1/shows/[id]/",
        "POST /auth/login",
        "POST /validate-promo/",
        "POST /checkout/",
        "GET /api/v1/featured-shows/",
        "GET /api/v1/active-cities/",
        "GET /api/v1/search/",
    ];
    assert_eq!(
        endpoints(&result).len(),
        names.len(),
        "{:?}",
        endpoints(&result)
            .iter()
            .map(|e| &e["name"])
            .collect::<Vec<_>>()
    );
    for name in names {
        assert!(requests(&result, name) > 0, "{name} was never requested");
        assert_eq!(
            error_count(&result, name, "total"),
            0,
            "{name}: {}",
            errors(&result, name)
        );
    }
    assert_eq!(result["complete"], true);

    // What the service answered: checkouts went through, and the search was throttled at times —
    // which the profile expects, so it counts as no error.
    let log = server.log.all();
    let checkouts = log.iter().filter(|s| s.path == "/checkout/").count();
    let created = log
        .iter()
        .filter(|s| s.path == "/checkout/" && s.status == 201)
        .count();
    assert!(
        checkouts > 0 && created == checkouts,
        "{created} of {checkouts} checkouts created"
    );
    let throttled = log
        .iter()
        .filter(|s| s.path == "/api/v1/search/" && s.status == 429)
        .count();
    assert!(
        throttled > 0,
        "the search was never throttled: the 429 expectation was not exercised"
    );
}
