package callback

// interned holds the values of low-cardinality fields (message and status
// types, currencies, ...) so that decoding them allocates nothing.
var interned = func() map[string]string {
	values := []string{
		// envelope and change
		"whatsapp", "messages", "whatsapp_business_account",
		// message types
		"text", "image", "video", "audio", "document", "sticker", "location", "contacts",
		"interactive", "button", "order", "reaction", "system", "unsupported", "unknown", "edit", "revoke",
		// interactive and system types
		"button_reply", "list_reply", "nfm_reply", "flow", "address_message",
		"user_changed_number", "user_changed_user_id",
		// identity, calls, preferences
		"individual", "group", "call", "connect", "terminate", "USER_INITIATED", "BUSINESS_INITIATED",
		"RINGING", "ACCEPTED", "REJECTED", "COMPLETED", "FAILED", "marketing_messages", "stop", "resume",
		"calls", "user_preferences", "user_id_update", "smb_message_echoes",
		// statuses and pricing
		"sent", "delivered", "read", "played", "failed", "not-sent",
		"CBP", "PMP", "regular", "free_customer_service", "free_entry_point",
		"marketing", "utility", "authentication", "service", "referral_conversion",
		"business_initiated", "user_initiated",
		// currencies seen in catalogues
		"INR", "USD", "EUR", "GBP", "AED", "SAR", "BRL", "IDR", "MXN", "SGD", "MYR", "ZAR",
		"NGN", "KES", "EGP", "TRY", "JPY", "KWD", "BHD", "OMR", "QAR", "PKR", "BDT", "LKR",
		// common media types
		"image/jpeg", "image/png", "image/webp", "video/mp4", "audio/ogg; codecs=opus",
		"audio/mpeg", "application/pdf",
	}
	m := make(map[string]string, len(values))
	for _, v := range values {
		m[v] = v
	}
	return m
}()
