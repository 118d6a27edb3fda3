// Package console is the support web UI of Switchyard: support staff look
// up a client, see which store serves its reads and why, read its shadow
// statistics and promotion gates, switch its read stage (with a
// confirmation and a reason) or roll it back to legacy, and read the audit
// log and the migration status.
//
// The console is a plain http.Handler built by New from its dependencies:
// a Flags implementation (the per-client read stages; package
// console/flagsadapter adapts package flags), an optional StatusSource (the
// migrator's status), the Users allowed in, and a logger. Pages are rendered
// with html/template from assets embedded in the binary; a small script
// calls the JSON API under /api/ for the actions. Nothing is loaded from
// another origin, so the console works offline.
//
// Security model:
//
//   - Every route needs a session except /login, /static/ and /healthz.
//   - Users have the role viewer (read only) or operator (may change
//     stages). The server enforces the role on every change; hiding buttons
//     is only a convenience.
//   - Passwords are stored as bcrypt hashes (HashPassword). Failed logins
//     are rate limited per client IP and per user name.
//   - Sessions are random 256-bit ids kept server side (only their SHA-256
//     is stored), sent in an HttpOnly, SameSite=Strict cookie that is Secure
//     unless Options.InsecureCookies is set for local plain-HTTP use.
//     Sessions end after an idle timeout, an absolute lifetime, or logout.
//   - Every state-changing request carries the session's synchronizer
//     token (form field csrf_token or header X-CSRF-Token), compared in
//     constant time, and passes net/http.CrossOriginProtection.
//   - Responses carry a strict Content-Security-Policy without inline
//     script, X-Frame-Options DENY, nosniff and no-referrer.
//   - Request bodies, reasons, queries and client ids are bounded; bad
//     input is answered with 400 or 413 and a message naming the problem.
package console
