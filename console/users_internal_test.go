package console

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestUnknownUserCostsAsMuchAsAKnownOne: the dummy hash compared for an
// unknown user has the cost of the users' hashes, and exists before the
// first login (no hashing on the first unknown name).
func TestUnknownUserCostsAsMuchAsAKnownOne(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("a long enough password"), MinBcryptCost+1)
	if err != nil {
		t.Fatal(err)
	}
	u, err := NewUsers([]User{{Name: "ann", Role: RoleViewer, PasswordHash: string(h)}})
	if err != nil {
		t.Fatal(err)
	}
	cost, err := bcrypt.Cost([]byte(u.dummy))
	if err != nil || cost != MinBcryptCost+1 {
		t.Fatalf("dummy hash cost %d (%v), want %d, the users' cost", cost, err, MinBcryptCost+1)
	}
}
