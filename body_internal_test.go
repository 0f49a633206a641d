package scim

import "testing"

// oktaCreateBody is a user as Okta creates it.
const oktaCreateBody = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"isaac.brock@example.com",` +
	`"name":{"givenName":"Isaac","familyName":"Brock"},` +
	`"emails":[{"primary":true,"value":"isaac.brock@example.com","type":"work"}],` +
	`"displayName":"Isaac Brock","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],` +
	`"password":"1mz050nq","active":true,"memberRole":"viewer"}`

// BenchmarkReadBody measures what checkJSON adds to decoding a body:
// "decode" is the decoding alone, "check" the check alone, "check+decode"
// what the handler does.
func BenchmarkReadBody(b *testing.B) {
	body := []byte(oktaCreateBody)
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := parseObject(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := checkJSON(body, false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check+decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if err := checkJSON(body, false); err != nil {
				b.Fatal(err)
			}
			if _, err := parseObject(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestCheckJSONAcceptsOktaBody(t *testing.T) {
	if err := checkJSON([]byte(oktaCreateBody), false); err != nil {
		t.Fatal(err)
	}
}
