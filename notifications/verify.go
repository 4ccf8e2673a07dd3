package notifications

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/heraldhq/herald/models"
)

// VerificationStore is the storage SendVerification needs besides
// EngineStore; *models.Store implements it.
type VerificationStore interface {
	ContactMethodByID(ctx context.Context, id string) (*models.ContactMethod, error)
	SetVerificationCode(ctx context.Context, contactMethodID, code string) error
}

// ErrVerificationUnsupported means the engine's store cannot keep
// verification codes.
var ErrVerificationUnsupported = errors.New("this store cannot verify contacts")

// SendVerification sends a new 6-digit code to a contact method, in the
// contact's own mode, straight through the mode's vendors: the one
// message an unverified number receives. The code is stored sealed with
// the server's key (models.Store.VerifyContact checks it); the code and
// the destination are never logged (the message is marked Sensitive, so
// vendors that log leave its text out), and the message is not kept in
// the message history, since its body is the code. An unknown id is an error
// satisfying models.IsNotFound; a contact with nowhere to send is
// ErrNoDestination, a mode nobody delivers ErrNoVendor.
func (e *Engine) SendVerification(ctx context.Context, contactMethodID string) error {
	vs, ok := e.store.(VerificationStore)
	if !ok {
		return ErrVerificationUnsupported
	}
	cm, err := vs.ContactMethodByID(ctx, contactMethodID)
	if err != nil {
		return err
	}
	mode := Mode(cm.Mode)
	dest, err := e.verificationDestination(ctx, cm)
	if err != nil {
		return err
	}
	vendors := e.vendors.For(mode)
	if len(vendors) == 0 {
		return fmt.Errorf("%w %q", ErrNoVendor, mode)
	}
	code, err := verificationCode()
	if err != nil {
		return err
	}
	// Stored before it is sent: a code that arrives always works.
	if err := vs.SetVerificationCode(ctx, cm.ID, code); err != nil {
		return err
	}
	msg := Message{Mode: mode, Destination: dest, Subject: "Herald verification code", Body: verificationBody(mode, code), OutOfBand: true, Sensitive: true}
	var failures []string
	for _, v := range vendors {
		vctx, cancel := context.WithTimeout(ctx, e.opts.VendorTimeout)
		_, err := v.Send(vctx, msg)
		cancel()
		if err == nil {
			e.log.InfoContext(ctx, "verification code sent", "contact_method", cm.ID, "mode", mode, "vendor", v.Name())
			return nil
		}
		failures = append(failures, v.Name()+": "+err.Error())
	}
	e.log.WarnContext(ctx, "verification code not sent", "contact_method", cm.ID, "mode", mode, "errors", failures)
	return fmt.Errorf("every %s vendor failed: %s", mode, strings.Join(failures, "; "))
}

// verificationDestination is where a contact method's code goes: its own
// destination, whether verified or not (that is the point), unless its
// number opted out; a Slack contact with none goes to the person's
// Slack account.
func (e *Engine) verificationDestination(ctx context.Context, cm *models.ContactMethod) (string, error) {
	if cm.OptedOutAt != nil {
		return "", fmt.Errorf("%w: the number opted out (texted STOP)", ErrNoDestination)
	}
	if d := strings.TrimSpace(cm.Destination.Reveal()); d != "" {
		return d, nil
	}
	if Mode(cm.Mode) == ModeSlack {
		people, err := e.store.PeopleByID(ctx, []string{cm.PersonID})
		if err != nil {
			return "", err
		}
		if len(people) == 1 && people[0].SlackUserID != nil {
			return *people[0].SlackUserID, nil
		}
	}
	return "", fmt.Errorf("%w %s", ErrNoDestination, cm.Mode)
}

// verificationBody reads well in each mode: a call speaks the digits one
// by one, twice.
func verificationBody(mode Mode, code string) string {
	if mode == ModeCall {
		spoken := strings.Join(strings.Split(code, ""), ", ")
		return fmt.Sprintf("Your Herald verification code is %s. Again: %s.", spoken, spoken)
	}
	return fmt.Sprintf("Your Herald verification code is %s. It expires in %d minutes. If you did not expect it, ignore this message.",
		code, int(models.VerificationCodeTTL.Minutes()))
}

// verificationCode is a uniformly random 6-digit code, leading zeros
// included.
func verificationCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("generating verification code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}
