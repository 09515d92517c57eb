package simulate

// The fixed material bodies are built from. Everything here is fictitious;
// phone numbers are generated from these country prefixes at random.

// market is one brand's WhatsApp business number, its catalogue and the
// country its customers mostly write from.
type market struct {
	dialCode    string // customer wa_id prefix
	localDigits int    // digits after the prefix
	localFirst  string // allowed first local digits
	display     string // business display_phone_number
	phoneID     string // business phone_number_id
	wabaID      string
	catalogID   string
	currency    string
	digits      int // ISO 4217 exponent of currency
	weight      int // share of customers
	latitude    float64
	longitude   float64
	places      []string
	products    []product
}

// product is one catalogue entry: a retailer id and a unit price in minor units.
type product struct {
	sku   string
	minor int64
}

var markets = []market{
	{
		dialCode: "91", localDigits: 10, localFirst: "6789",
		display: "919800000001", phoneID: "100000000000001", wabaID: "200000000000001",
		catalogID: "3294000000002474", currency: "INR", digits: 2, weight: 40,
		latitude: 12.9716, longitude: 77.5946,
		places: []string{"Koramangala 5th Block, Bengaluru", "Bandra West, Mumbai", "Connaught Place, New Delhi"},
		products: []product{
			{"shirt1122", 160000}, {"pant1122", 200000}, {"SKU-SHIRT-M", 160000}, {"SKU-PANT-32", 200000},
			{"kurta-cotton-L", 129900}, {"saree-silk-red", 849950}, {"chai-masala-250g", 24900},
			{"basmati-5kg", 79900}, {"phone-case-a15", 39950}, {"earbuds-x2", 199900},
			{"notebook-a5", 9900}, {"ghee-1l", 65000},
		},
	},
	{
		dialCode: "1", localDigits: 10, localFirst: "2345678",
		display: "15550000001", phoneID: "100000000000002", wabaID: "200000000000002",
		catalogID: "2234567890123456", currency: "USD", digits: 2, weight: 20,
		latitude: 40.7128, longitude: -74.0060,
		places: []string{"350 5th Ave, New York, NY", "1 Market St, San Francisco, CA"},
		products: []product{
			{"mug-blue", 1699}, {"coaster-set", 750}, {"tee-black-m", 2400}, {"hoodie-grey-l", 5999},
			{"coffee-beans-1lb", 1495}, {"tote-canvas", 1800}, {"sticker-pack", 399}, {"cap-navy", 2250},
		},
	},
	{
		dialCode: "49", localDigits: 10, localFirst: "1",
		display: "491700000001", phoneID: "100000000000003", wabaID: "200000000000003",
		catalogID: "3234567890123456", currency: "EUR", digits: 2, weight: 15,
		latitude: 52.5200, longitude: 13.4050,
		places: []string{"Alexanderplatz 1, Berlin", "Marienplatz 8, München"},
		products: []product{
			{"coffee-250g", 1290}, {"brezel-6er", 450}, {"bier-krug", 1950}, {"schal-wolle", 3490},
			{"fahrradlicht", 2999}, {"kalender-2026", 1200},
		},
	},
	{
		dialCode: "81", localDigits: 10, localFirst: "789",
		display: "81300000001", phoneID: "100000000000004", wabaID: "200000000000004",
		catalogID: "4234567890123456", currency: "JPY", digits: 0, weight: 15,
		latitude: 35.6762, longitude: 139.6503,
		places: []string{"東京都渋谷区神南1-1", "大阪府大阪市北区梅田3-1"},
		products: []product{
			{"matcha-100g", 1980}, {"bento-box", 3300}, {"yukata-m", 8800}, {"umbrella-clear", 550},
			{"sake-720ml", 2750}, {"gacha-capsule", 300},
		},
	},
	{
		dialCode: "965", localDigits: 8, localFirst: "569",
		display: "96550000001", phoneID: "100000000000005", wabaID: "200000000000005",
		catalogID: "5234567890123456", currency: "KWD", digits: 3, weight: 10,
		latitude: 29.3759, longitude: 47.9774,
		places: []string{"Salmiya, Block 10", "Kuwait City, Sharq"},
		products: []product{
			{"dates-ajwa-1kg", 4500}, {"oud-oil-12ml", 18750}, {"abaya-black", 22000},
			{"karak-tea-box", 1250}, {"prayer-mat", 3125},
		},
	},
}

// plainNames are ordinary profile names, several scripts and some emoji.
var plainNames = []string{
	"Priya Sharma", "Rahul Verma", "Ananya Iyer", "अनिल कुमार", "Sam", "Test Buyer One",
	"Emily Johnson", "Carlos Díaz", "Zoë Müller", "Jürgen Groß", "山田 太郎", "佐藤花子",
	"محمد الكندري", "Fatima Al-Sabah", "Олег Петров", "Siobhán O'Connor", "Nguyễn Ngọc Anh",
	"😀 Sam", "👩🏽‍💻 Aisha", "Ma\u200bria", "José\tLuis", "Åsa Öberg", "Chloé", "김민준", "ปรียา",
	"Kwame Mensah", "Dr. A. P. J.", ".", "🛒🛒🛒",
}

// hostileNames are profile names that break careless HTML, SQL, CSV, log or
// template handling. The generator uses them now and then.
var hostileNames = []string{
	"<script>alert(1)</script>",
	"'; DROP TABLE orders; --",
	"Robert'); DROP TABLE customers;--",
	`<img src=x onerror="alert(document.cookie)">`,
	"=HYPERLINK(\"http://example.invalid\",\"click\")",
	"{{.Secret}} ${jndi:ldap://example.invalid/a}",
	"\u202egnp.exe",
	"line one\nINFO fake log line",
	"Z̷̢̛a̸l̶g̵o̴ ̶t̸e̴x̷t̵",
	"ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ" + "ﷺ",
}

// campaigns are values for extra_info.ref, ref1 and ref2.
var campaigns = []string{
	"diwali-sale", "summer sale campaign", "shoes campaign", "cart-reminder-7d",
	"restock-alert", "spring-promo", "segment-b", "batch-17", "catalog-send-0001",
	"Hello This will be my reference id - 123", "vip-early-access", "新春セール",
}

var hostileRefs = []string{
	"<script>alert('ref')</script>",
	"' OR '1'='1",
}

var orderTexts = []string{
	"Please deliver after 6pm", "Gift wrap please", "message", "कृपया जल्दी भेजें",
	"ドアの前に置いてください", "Bitte beim Nachbarn abgeben", "Call before delivery 📞",
	"Second floor,\nflat 4B", "",
}

var hostileTexts = []string{
	"<script>alert(1)</script>",
	"'; DROP TABLE orders; --",
	"\x1b[31mred\x1b[0m",
}

var chatTexts = []string{
	"Hi", "Is this available in size L?", "Can you change the shirt size to L?",
	"When will my order arrive?", "Thanks! 🙏", "क्या यह स्टॉक में है?", "在庫はありますか？",
	"Ich möchte stornieren", "هل يوجد توصيل اليوم؟", "ok", "👍",
	"Where is my order? It has been 3 days and nobody answers. Order placed on Monday evening, paid by UPI.",
}

var emojis = []string{"👍", "❤️", "😂", "😮", "😢", "🙏", "🔥", "👍🏽"}

var captions = []string{"", "", "this one", "Is this the right colour?", "receipt", "damaged on arrival 😞"}

var mediaTypes = map[Kind]struct {
	mime, ext string
}{
	KindImage:    {"image/jpeg", "jpg"},
	KindVideo:    {"video/mp4", "mp4"},
	KindAudio:    {"audio/ogg; codecs=opus", "ogg"},
	KindDocument: {"application/pdf", "pdf"},
	KindSticker:  {"image/webp", "webp"},
}

var buttonReplies = [][2]string{
	{"confirm-order", "Confirm"}, {"cancel-order", "Cancel"}, {"talk-to-agent", "Talk to us"},
}

var listReplies = [][3]string{
	{"slot-morning", "Morning", "9am to 12pm"},
	{"slot-evening", "Evening", "5pm to 9pm"},
	{"pay-cod", "Cash on delivery", ""},
	{"pay-upi", "UPI", "Pay now, get 5% off"},
}

var templateButtons = [][2]string{
	{"STOP_PROMOTIONS", "Stop promotions"}, {"REORDER", "Order again"}, {"TRACK", "Track my order"},
}

var unsupportedTypes = []string{"poll_update", "edit", "product", "order", "ephemeral", "event"}

var failures = []struct {
	code           string
	title, details string
}{
	{"131047", "Re-engagement message", "More than 24 hours have passed since the recipient last replied."},
	{"131026", "Message undeliverable", "Unable to deliver message."},
	{"131049", "This message was not delivered to maintain healthy ecosystem engagement.", "Per-user marketing limit."},
	{"131053", "Media upload error", "Unsupported media type."},
}
