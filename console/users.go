package console

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"

	"sigs.k8s.io/yaml"
)

// Role is what a console user may do.
type Role string

// Roles.
const (
	// RoleViewer sees everything and changes nothing.
	RoleViewer Role = "viewer"
	// RoleOperator may also switch and roll back clients.
	RoleOperator Role = "operator"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleViewer || r == RoleOperator }

// CanChange reports whether r may change read stages.
func (r Role) CanChange() bool { return r == RoleOperator }

// User is one entry of the users configuration.
type User struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// PasswordHash is a bcrypt hash made by HashPassword (or
	// `switchyard console hash-password`).
	PasswordHash string `json:"password_hash"`
}

// UsersConfig is the users file: JSON or YAML.
//
//	users:
//	  - name: alice
//	    role: operator
//	    password_hash: "$2a$12$..."
type UsersConfig struct {
	Users []User `json:"users"`
}

var userNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// Users is the immutable set of console users.
type Users struct {
	byName map[string]User
	// dummy is compared against for unknown users: a hash at the highest
	// cost of the configured users, made once when they are loaded.
	dummy string
}

// NewUsers validates list: at least one user, unique names of 1–64
// characters (letters, digits, . _ @ -), a known role and a bcrypt hash of
// cost MinBcryptCost or more each. Hash every user at the same cost: an
// unknown user then costs exactly as long as a known one. Errors match ErrInvalidUsers and name the offending entry.
func NewUsers(list []User) (*Users, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no users configured", ErrInvalidUsers)
	}
	u := &Users{byName: make(map[string]User, len(list))}
	dummyCost := MinBcryptCost
	for i, usr := range list {
		where := fmt.Sprintf("user %d (%q)", i+1, usr.Name)
		if !userNamePattern.MatchString(usr.Name) {
			return nil, fmt.Errorf("%w: %s: name must be 1-64 letters, digits or . _ @ - and start with a letter or digit", ErrInvalidUsers, where)
		}
		if _, dup := u.byName[usr.Name]; dup {
			return nil, fmt.Errorf("%w: %s: the name appears twice", ErrInvalidUsers, where)
		}
		if !usr.Role.Valid() {
			return nil, fmt.Errorf("%w: %s: role %q is not one of viewer, operator", ErrInvalidUsers, where, usr.Role)
		}
		cost, err := checkHash(usr.PasswordHash)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidUsers, where, err)
		}
		dummyCost = max(dummyCost, cost)
		u.byName[usr.Name] = usr
	}
	dummy, err := dummyHashFor(dummyCost)
	if err != nil {
		return nil, err
	}
	u.dummy = dummy
	return u, nil
}

// ParseUsers reads a users document in JSON or YAML. Unknown fields are
// errors, so a misspelt key does not silently lock a user out.
func ParseUsers(data []byte) (*Users, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%w: the users document is empty", ErrInvalidUsers)
	}
	var cfg UsersConfig
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidUsers, err)
	}
	return NewUsers(cfg.Users)
}

// LoadUsersFile reads and parses a users file (see ParseUsers).
func LoadUsersFile(path string) (*Users, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidUsers, err)
	}
	u, err := ParseUsers(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// UsersEnv names the environment variable that may hold the users document
// inline (see ParseUsers), read by LoadUsers when no users file is given.
const UsersEnv = "SWITCHYARD_CONSOLE_USERS"

// LoadUsers reads the users file at path (see LoadUsersFile) or, when path
// is empty, the document in UsersEnv, whose problems it names UsersEnv in.
// With neither it fails with ErrNoUsers.
func LoadUsers(path string) (*Users, error) {
	if path != "" {
		return LoadUsersFile(path)
	}
	doc, ok := os.LookupEnv(UsersEnv)
	if !ok {
		return nil, ErrNoUsers
	}
	u, err := ParseUsers([]byte(doc))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", UsersEnv, err)
	}
	return u, nil
}

// Authenticate checks a name and password. It fails with ErrBadCredentials
// for an unknown user or a wrong password, taking about as long in both
// cases.
func (u *Users) Authenticate(name, password string) (User, error) {
	usr, ok := u.byName[name]
	if !ok {
		passwordMatches(u.dummy, password)
		return User{}, ErrBadCredentials
	}
	if !passwordMatches(usr.PasswordHash, password) {
		return User{}, ErrBadCredentials
	}
	return usr, nil
}

// Lookup returns the user called name.
func (u *Users) Lookup(name string) (User, bool) {
	usr, ok := u.byName[name]
	return usr, ok
}

// Names lists the user names, sorted.
func (u *Users) Names() []string {
	names := make([]string, 0, len(u.byName))
	for n := range u.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
