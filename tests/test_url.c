/* Redis URL parsing (common/url.h), without a server: the accepted forms (host, port,
 * user:password@, bare password@, /db, [IPv6], unix:// with a query, percent-encoding) and
 * the malformed ones (bad scheme, port out of range or not a number, empty host, relative
 * unix path, junk query, broken percent-escapes), each with its message. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "common/url.h"
#include "spindle/status.h"
#include "suites.h"

/* Parses text, asserting success; returns the result by value for field checks. */
static spindle_url parse_ok(const char *text)
{
    spindle_url u;
    spindle_error err = {0};
    int rc = spindle_url_parse(text, &u, &err);
    CU_ASSERT_EQUAL(rc, SPINDLE_OK);
    if (rc != SPINDLE_OK)
        fprintf(stderr, "\n  unexpected failure for %s: %s\n", text, err.msg);
    return u;
}

/* Asserts that text is refused with SPINDLE_ERR_INVALID and a message containing why. */
static void parse_bad(const char *text, const char *why)
{
    spindle_url u;
    spindle_error err = {0};
    int rc = spindle_url_parse(text, &u, &err);
    CU_ASSERT_EQUAL(rc, SPINDLE_ERR_INVALID);
    CU_ASSERT_EQUAL(err.code, SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
    if (rc != SPINDLE_ERR_INVALID || strstr(err.msg, why) == NULL)
        fprintf(stderr, "\n  %s: rc %d, message '%s' (expected '%s')\n", text, rc, err.msg, why);
}

static void test_host_only(void)
{
    spindle_url u = parse_ok("redis://localhost");
    CU_ASSERT_FALSE(u.is_unix);
    CU_ASSERT_STRING_EQUAL(u.host, "localhost");
    CU_ASSERT_EQUAL(u.port, 6379);
    CU_ASSERT_EQUAL(u.db, 0);
    CU_ASSERT_FALSE(u.has_password);
    CU_ASSERT_STRING_EQUAL(u.user, "");
}

static void test_ports(void)
{
    CU_ASSERT_EQUAL(parse_ok("redis://127.0.0.1:6380").port, 6380);
    CU_ASSERT_STRING_EQUAL(parse_ok("redis://127.0.0.1:6380").host, "127.0.0.1");
    CU_ASSERT_EQUAL(parse_ok("redis://h:1").port, 1);
    CU_ASSERT_EQUAL(parse_ok("redis://h:65535").port, 65535);
    CU_ASSERT_EQUAL(parse_ok("redis://h:6390/").port, 6390);
}

static void test_user_password(void)
{
    spindle_url u = parse_ok("redis://alice:s3cret@cache.example:7000/3");
    CU_ASSERT_STRING_EQUAL(u.user, "alice");
    CU_ASSERT_STRING_EQUAL(u.password, "s3cret");
    CU_ASSERT_TRUE(u.has_password);
    CU_ASSERT_STRING_EQUAL(u.host, "cache.example");
    CU_ASSERT_EQUAL(u.port, 7000);
    CU_ASSERT_EQUAL(u.db, 3);

    /* An empty user before the colon: password only. */
    u = parse_ok("redis://:pw@h");
    CU_ASSERT_STRING_EQUAL(u.user, "");
    CU_ASSERT_STRING_EQUAL(u.password, "pw");
    CU_ASSERT_TRUE(u.has_password);
}

static void test_bare_password(void)
{
    spindle_url u = parse_ok("redis://hunter2@h:6400");
    CU_ASSERT_STRING_EQUAL(u.user, "");
    CU_ASSERT_STRING_EQUAL(u.password, "hunter2");
    CU_ASSERT_TRUE(u.has_password);
    CU_ASSERT_STRING_EQUAL(u.host, "h");
    CU_ASSERT_EQUAL(u.port, 6400);
}

static void test_db(void)
{
    CU_ASSERT_EQUAL(parse_ok("redis://h/0").db, 0);
    CU_ASSERT_EQUAL(parse_ok("redis://h/15").db, 15);
    CU_ASSERT_EQUAL(parse_ok("redis://h:1/7").db, 7);
    CU_ASSERT_EQUAL(parse_ok("redis://h/").db, 0);
    CU_ASSERT_EQUAL(parse_ok("redis://h?db=4").db, 4);
}

static void test_ipv6(void)
{
    spindle_url u = parse_ok("redis://[::1]");
    CU_ASSERT_STRING_EQUAL(u.host, "::1");
    CU_ASSERT_EQUAL(u.port, 6379);
    u = parse_ok("redis://u:p@[fe80::1:2]:6390/2");
    CU_ASSERT_STRING_EQUAL(u.host, "fe80::1:2");
    CU_ASSERT_EQUAL(u.port, 6390);
    CU_ASSERT_EQUAL(u.db, 2);
    CU_ASSERT_STRING_EQUAL(u.password, "p");
}

static void test_unix(void)
{
    spindle_url u = parse_ok("unix:///var/run/redis/redis.sock");
    CU_ASSERT_TRUE(u.is_unix);
    CU_ASSERT_STRING_EQUAL(u.path, "/var/run/redis/redis.sock");
    CU_ASSERT_EQUAL(u.db, 0);
    CU_ASSERT_FALSE(u.has_password);

    u = parse_ok("unix:///tmp/r.sock?db=2&password=x");
    CU_ASSERT_TRUE(u.is_unix);
    CU_ASSERT_STRING_EQUAL(u.path, "/tmp/r.sock");
    CU_ASSERT_EQUAL(u.db, 2);
    CU_ASSERT_STRING_EQUAL(u.password, "x");
    CU_ASSERT_TRUE(u.has_password);

    u = parse_ok("unix:///tmp/r.sock?user=svc&password=pw&db=9");
    CU_ASSERT_STRING_EQUAL(u.user, "svc");
    CU_ASSERT_STRING_EQUAL(u.password, "pw");
    CU_ASSERT_EQUAL(u.db, 9);
}

static void test_percent_encoding(void)
{
    spindle_url u = parse_ok("redis://us%3Aer:p%40ss%2Fw%25@h");
    CU_ASSERT_STRING_EQUAL(u.user, "us:er");
    CU_ASSERT_STRING_EQUAL(u.password, "p@ss/w%");
    CU_ASSERT_STRING_EQUAL(u.host, "h");

    /* An unencoded '@' in the password: the last '@' ends the userinfo. */
    u = parse_ok("redis://u:p@ss@h:1");
    CU_ASSERT_STRING_EQUAL(u.password, "p@ss");
    CU_ASSERT_STRING_EQUAL(u.host, "h");
    CU_ASSERT_EQUAL(u.port, 1);

    /* Upper- and lowercase hex digits. */
    u = parse_ok("redis://%4a%4B@h");
    CU_ASSERT_STRING_EQUAL(u.password, "JK");

    u = parse_ok("unix:///s?password=a%26b%3Dc&user=%41");
    CU_ASSERT_STRING_EQUAL(u.password, "a&b=c");
    CU_ASSERT_STRING_EQUAL(u.user, "A");
}

static void test_bad_scheme(void)
{
    parse_bad("http://localhost", "scheme must be redis://, unix://, cluster:// or sentinel://");
    parse_bad("rediss://localhost", "scheme");
    parse_bad("redis:/localhost", "scheme");
    parse_bad("localhost:6379", "scheme");
    parse_bad("", "empty");
    parse_bad(NULL, "empty");
}

static void test_bad_port(void)
{
    parse_bad("redis://h:0", "port is not a number in 1-65535");
    parse_bad("redis://h:70000", "port");
    parse_bad("redis://h:65536", "port");
    parse_bad("redis://h:abc", "port");
    parse_bad("redis://h:", "port");
    parse_bad("redis://h:-1", "port");
    parse_bad("redis://h:63 79", "port");
    parse_bad("redis://h:99999999999", "port");
    parse_bad("redis://[::1]:0", "port");
}

static void test_empty_host(void)
{
    parse_bad("redis://", "host is empty");
    parse_bad("redis://:6379", "host is empty");
    parse_bad("redis://pw@", "host is empty");
    parse_bad("redis://u:pw@:1/2", "host is empty");
    parse_bad("redis://[]:1", "host is empty");
    parse_bad("redis:///0", "host is empty");
}

static void test_bad_ipv6(void)
{
    parse_bad("redis://[::1", "unclosed '['");
    parse_bad("redis://[::1]x", "junk after IPv6 host");
}

static void test_bad_db(void)
{
    parse_bad("redis://h/abc", "database is not a number");
    parse_bad("redis://h/1/2", "database");
    parse_bad("redis://h/-1", "database");
}

static void test_relative_unix_path(void)
{
    parse_bad("unix://tmp/redis.sock", "must be absolute");
    parse_bad("unix://", "must be absolute");
    parse_bad("unix://?db=1", "must be absolute");
}

static void test_junk_query(void)
{
    parse_bad("unix:///s?foo=1", "unknown query option");
    parse_bad("unix:///s?db", "query option without '='");
    parse_bad("unix:///s?db=x", "db is not a number");
    parse_bad("unix:///s?db=", "db is not a number");
    parse_bad("unix:///s?db=1&verbose", "without '='");
    parse_bad("redis://h?timeout=5", "unknown query option");
}

static void test_bad_percent(void)
{
    parse_bad("redis://u:%zz@h", "malformed password");
    parse_bad("redis://u:%4@h", "malformed password");
    parse_bad("redis://u:ab%@h", "malformed password");
    parse_bad("redis://%00@h", "malformed password"); /* NUL cannot be passed on */
    parse_bad("redis://u%g1:p@h", "malformed user");
    parse_bad("unix:///s?password=%", "malformed password");
}

static void test_message_quotes_url(void)
{
    spindle_url u;
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_url_parse("redis://example.org:0", &u, &err), SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'redis://example.org:0'"));
}

/* A URL refused for a bad port still carries a password: the message, which ends up in
 * logs and on terminals, must not show it. The store masks passwords in every other message
 * (store/conn.c mask_url); the parser's own messages should too. */
static void test_message_hides_password(void)
{
    spindle_url u;
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_url_parse("redis://admin:TopSecret42@db.example:0", &u, &err),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "TopSecret42"));
    err = (spindle_error){0};
    CU_ASSERT_EQUAL(spindle_url_parse("unix:///s?password=TopSecret42&db=x", &u, &err),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "TopSecret42"));
}

/* Output fields are reset on every parse: nothing leaks from a previous, richer URL. */
static void test_fields_reset(void)
{
    spindle_url u;
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_url_parse("unix:///s?db=3&user=x&password=y", &u, &err), SPINDLE_OK);
    CU_ASSERT_EQUAL(spindle_url_parse("redis://h", &u, &err), SPINDLE_OK);
    CU_ASSERT_FALSE(u.is_unix);
    CU_ASSERT_EQUAL(u.db, 0);
    CU_ASSERT_FALSE(u.has_password);
    CU_ASSERT_STRING_EQUAL(u.user, "");
    CU_ASSERT_STRING_EQUAL(u.path, "");
}

/* cluster://: seeds with and without ports, [IPv6], userinfo and query credentials. */
static void test_cluster(void)
{
    spindle_url u = parse_ok("cluster://127.0.0.1:7000,127.0.0.1:7001,[::1]:7002,node4");
    CU_ASSERT_TRUE(u.is_cluster);
    CU_ASSERT_FALSE(u.is_unix);
    CU_ASSERT_EQUAL(u.nseeds, 4);
    CU_ASSERT_STRING_EQUAL(u.seeds[0].host, "127.0.0.1");
    CU_ASSERT_EQUAL(u.seeds[0].port, 7000);
    CU_ASSERT_EQUAL(u.seeds[1].port, 7001);
    CU_ASSERT_STRING_EQUAL(u.seeds[2].host, "::1");
    CU_ASSERT_EQUAL(u.seeds[2].port, 7002);
    CU_ASSERT_STRING_EQUAL(u.seeds[3].host, "node4");
    CU_ASSERT_EQUAL(u.seeds[3].port, 6379);
    CU_ASSERT_STRING_EQUAL(u.host, "127.0.0.1");
    CU_ASSERT_EQUAL(u.port, 7000);
    CU_ASSERT_FALSE(u.has_password);
    u = parse_ok("cluster://bob:p%40ss@h:7000/");
    CU_ASSERT_EQUAL(u.nseeds, 1);
    CU_ASSERT_STRING_EQUAL(u.user, "bob");
    CU_ASSERT_STRING_EQUAL(u.password, "p@ss");
    u = parse_ok("cluster://h1,h2/?user=ops&password=x");
    CU_ASSERT_EQUAL(u.nseeds, 2);
    CU_ASSERT_STRING_EQUAL(u.user, "ops");
    CU_ASSERT_TRUE(u.has_password);
    CU_ASSERT_FALSE(parse_ok("redis://h").is_cluster);
}

static void test_bad_cluster(void)
{
    parse_bad("cluster://h:7000/3", "a cluster has no database");
    parse_bad("cluster://h:7000?db=2", "a cluster has no database");
    parse_bad("cluster://h:7000,,h2", "host is empty");
    parse_bad("cluster://h:7000,", "host is empty");
    parse_bad("cluster://", "host is empty");
    parse_bad("cluster://h:0", "port is not a number");
    parse_bad("cluster://h:7000,h:x", "port is not a number");
    parse_bad("cluster://[::1:7000", "unclosed '['");
    parse_bad("cluster://h?color=red", "unknown query option");
    parse_bad("cluster://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "too many cluster nodes");
}

static void test_sentinel(void)
{
    spindle_url u = parse_ok("sentinel://10.0.0.1:26379,s2,[::1]:5000/mymaster");
    CU_ASSERT_TRUE(u.is_sentinel);
    CU_ASSERT_EQUAL(u.sentinel.count, 3);
    CU_ASSERT_STRING_EQUAL(u.sentinel.node[0].host, "10.0.0.1");
    CU_ASSERT_EQUAL(u.sentinel.node[0].port, 26379);
    CU_ASSERT_STRING_EQUAL(u.sentinel.node[1].host, "s2");
    CU_ASSERT_EQUAL(u.sentinel.node[1].port, 26379); /* Sentinel's default */
    CU_ASSERT_STRING_EQUAL(u.sentinel.node[2].host, "::1");
    CU_ASSERT_EQUAL(u.sentinel.node[2].port, 5000);
    CU_ASSERT_STRING_EQUAL(u.sentinel.master, "mymaster");
    CU_ASSERT_FALSE(u.has_password);
    CU_ASSERT_FALSE(u.sentinel.has_password);

    /* Userinfo and password/db options are the data nodes'; sentinel_* the sentinels'. */
    u = parse_ok("sentinel://app:p%40ss@h:1/m.1?db=2&sentinel_user=sv&sentinel_password=sp");
    CU_ASSERT_STRING_EQUAL(u.user, "app");
    CU_ASSERT_STRING_EQUAL(u.password, "p@ss");
    CU_ASSERT_TRUE(u.has_password);
    CU_ASSERT_EQUAL(u.db, 2);
    CU_ASSERT_STRING_EQUAL(u.sentinel.user, "sv");
    CU_ASSERT_STRING_EQUAL(u.sentinel.password, "sp");
    CU_ASSERT_TRUE(u.sentinel.has_password);
    CU_ASSERT_STRING_EQUAL(u.sentinel.master, "m.1");
}

static void test_bad_sentinel(void)
{
    parse_bad("sentinel://h:1", "master name is missing");
    parse_bad("sentinel://h:1/", "master name is missing");
    parse_bad("sentinel://h:1/a b", "outside [A-Za-z0-9_.:-]");
    parse_bad("sentinel://h:1,,h:2/m", "sentinel host is empty");
    parse_bad("sentinel://h:1,h:0/m", "sentinel port is not a number");
    parse_bad("sentinel://h:99999/m", "sentinel port is not a number");
    parse_bad("sentinel://[::1/m", "unclosed '['");
    parse_bad("sentinel://a,b,c,d,e,f,g,h,i/m", "more than 8 sentinels");
    parse_bad("sentinel://h/m?wat=1", "unknown query option");
    parse_bad("redis://h?sentinel_password=x", "unknown query option");

    char shown[256];
    spindle_url_redact("sentinel://u:Secret1@h/m?sentinel_password=Secret2&db=1", shown,
                       sizeof(shown));
    CU_ASSERT_PTR_NULL(strstr(shown, "Secret"));
    CU_ASSERT_PTR_NOT_NULL(strstr(shown, "sentinel_password=***&db=1"));
    spindle_url u;
    spindle_error err = {0};
    CU_ASSERT_EQUAL(spindle_url_parse("sentinel://h:0/m?sentinel_password=Secret2", &u, &err),
                    SPINDLE_ERR_INVALID);
    CU_ASSERT_PTR_NULL(strstr(err.msg, "Secret2"));
}

int register_url_tests(void)
{
    static const test_case tests[] = {
        {"redis://host", test_host_only},
        {"ports", test_ports},
        {"user:password@", test_user_password},
        {"bare password@", test_bare_password},
        {"/db and ?db=", test_db},
        {"[IPv6] host", test_ipv6},
        {"unix:///path?db=&password=", test_unix},
        {"percent-encoding", test_percent_encoding},
        {"malformed: scheme", test_bad_scheme},
        {"malformed: port 0/70000/abc", test_bad_port},
        {"malformed: empty host", test_empty_host},
        {"malformed: IPv6 brackets", test_bad_ipv6},
        {"malformed: db", test_bad_db},
        {"malformed: relative unix path", test_relative_unix_path},
        {"malformed: junk query", test_junk_query},
        {"malformed: percent-escapes", test_bad_percent},
        {"message quotes the URL", test_message_quotes_url},
        {"message hides the password", test_message_hides_password},
        {"fields reset between parses", test_fields_reset},
        {"cluster://seeds", test_cluster},
        {"malformed: cluster://", test_bad_cluster},
        {"sentinel://", test_sentinel},
        {"malformed: sentinel://", test_bad_sentinel},
        {NULL, NULL},
    };
    return add_suite("url (pure)", NULL, NULL, tests);
}
