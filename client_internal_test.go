package scim

import "testing"

func TestClientName(t *testing.T) {
	tests := []struct{ ua, want string }{
		{"Okta SCIM Client 1.0.0", "okta"},
		{"OKTA", "okta"},
		{"Azure Active Directory SCIM Client", "entra"},
		{"Microsoft.Identity.Provisioning", "entra"},
		{"Entra-ID", "entra"},
		{"OneLogin SCIM", "onelogin"},
		{"PingFederate/11.3", "pingfederate"},
		{"JumpCloud-SCIM", "jumpcloud"},
		{"Rippling", "rippling"},
		{"WorkOS Directory Sync", "workos"},
		{"curl/8.5.0", "other"},
		{"", "other"},
		{"okt", "other"},
		{"Go-http-client/1.1 (okta bridge, via microsoft)", "okta"}, // the first in clients' order wins
		{"\xff\xfeOKTA\xff", "okta"},
	}
	for _, tt := range tests {
		if got := clientName(tt.ua); got != tt.want {
			t.Errorf("clientName(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}
