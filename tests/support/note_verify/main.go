// note_verify opens a C2SP signed note with Go's golang.org/x/mod/sumdb/note, the
// reference signed-note implementation, as any outside verifier would.
//
//	note_verify NOTE_FILE LOG_VKEY [WITNESS_VKEY...]
//
// The log key is read by note.NewVerifier (Ed25519, signature type 0x01). A witness key
// (C2SP vkey of type 0x04) becomes a note.Verifier that checks a tlog-cosignature/v1:
// the signature after the key ID is an 8-byte big-endian timestamp and an Ed25519
// signature of "cosignature/v1\ntime <timestamp>\n" followed by the note text.
//
// Prints one JSON object: the note text, the names whose signatures verified, and the
// names of signature lines no given key matched. Exits 1 if note.Open fails.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type cosignatureVerifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v cosignatureVerifier) Name() string    { return v.name }
func (v cosignatureVerifier) KeyHash() uint32 { return v.hash }
func (v cosignatureVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	timestamp := binary.BigEndian.Uint64(sig[:8])
	signed := fmt.Sprintf("cosignature/v1\ntime %d\n%s", timestamp, msg)
	return ed25519.Verify(v.key, []byte(signed), sig[8:])
}

func witnessVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed witness key %q", vkey)
	}
	key, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(key) != 1+ed25519.PublicKeySize || key[0] != 0x04 {
		return nil, fmt.Errorf("witness key %q is not an Ed25519 cosignature/v1 key", vkey)
	}
	digest := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
	v := cosignatureVerifier{parts[0], binary.BigEndian.Uint32(digest[:4]), key[1:]}
	if fmt.Sprintf("%08x", v.hash) != parts[1] {
		return nil, fmt.Errorf("witness key %q has the wrong key hash", vkey)
	}
	return v, nil
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: note_verify NOTE_FILE LOG_VKEY [WITNESS_VKEY...]")
		os.Exit(2)
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logVerifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	verifiers := []note.Verifier{logVerifier}
	for _, vkey := range os.Args[3:] {
		v, err := witnessVerifier(vkey)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		verifiers = append(verifiers, v)
	}
	opened, err := note.Open(text, note.VerifierList(verifiers...))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	result := map[string]interface{}{"text": opened.Text, "verified": []string{}, "unverified": []string{}}
	for _, s := range opened.Sigs {
		result["verified"] = append(result["verified"].([]string), s.Name)
	}
	for _, s := range opened.UnverifiedSigs {
		result["unverified"] = append(result["unverified"].([]string), s.Name)
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}
