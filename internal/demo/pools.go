package demo

// The vocabulary of the demo world. Names mix scripts on purpose: exports
// must render "Zoë Müller", "Ελένη" and "Дмитрий" as well as "John Smith".

var userNames = []string{
	"Zoë Müller", "Ελένη Παπαδοπούλου", "Дмитрий Иванов", "José Álvarez", "Siobhán O'Connor",
	"François Dubois", "Łukasz Wójcik", "Mehmet Yılmaz", "Ægir Þórsson", "Chloé Martin",
	"李娜", "佐藤 花子", "Ana Souza", "John Smith", "Priya Sharma", "Ahmed Hassan",
	"Emily Clark", "Lars Østergaard", "Núria Puig", "Björn Lindqvist", "Olga Kuznetsova",
	"Kwame Mensah", "Sofía Hernández", "Dang Thi Thu", "Matteo Rossi", "Hannah Schmidt",
	"Yusuf Demir", "Aoife Byrne", "Grace Okafor", "Tomás Novák", "Ines Ferreira",
	"Mikael Virtanen", "Sarah O'Neill", "Ravi Patel", "Camille Leroy", "Jürgen Weiß",
}

var entityStems = []string{
	"Acme", "Nordlicht", "Blue Harbor", "Globex", "Initech", "Umbrella", "Stark",
	"Wayne", "Müller & Söhne", "Zürich Capital", "Ελληνική Ναυτιλιακή", "Северсталь Трейд",
	"Café Lumière", "Ørsted Partners", "Sakura Trading", "Atlas Freight", "Pinecrest",
	"Silverline", "Redwood", "Meridian", "Polaris", "Vega", "Helvetia Metals",
	"Ибрагимов и партнёры", "São Paulo Agro", "Kraków Logistics", "Tigris", "Anatolia Tekstil",
}

var entitySuffixes = []string{
	"Ltd", "GmbH", "S.A.", "LLC", "Holdings", "Group", "AG", "plc", "B.V.", "Inc.", "S.r.l.", "Α.Ε.", "ООО",
}

var tags = []string{
	"high_risk", "pep", "sanctions", "kyc_refresh", "vip", "onboarding", "dormant", "adverse_media", "edd",
}

var workflowSteps = []string{
	"document_collection", "identity_verification", "risk_scoring", "screening", "four_eyes_review",
	"approval", "onboarding_complete",
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"python-requests/2.32.3",
	"platform-sdk-go/5.4.0",
}

// notes are long free-text additions to some descriptions.
var notes = []string{
	" — Reviewer notes: the beneficial ownership chart was reconciled against the commercial register extract " +
		"dated last quarter. Two intermediate holding companies in Cyprus and Luxembourg were identified; both " +
		"were screened with no true matches. Source of funds is explained by the audited annual accounts and the " +
		"dividend history provided by the client's CFO, Zoë Müller. The relationship manager confirmed the expected " +
		"transaction volumes in a call on Tuesday. Residual risk is rated medium; the next periodic review is due in " +
		"twelve months unless a trigger event occurs.",
	" — Αιτιολόγηση: τα έγγραφα ταυτοποίησης ελέγχθηκαν και βρέθηκαν σε ισχύ. Η διεύθυνση κατοικίας επιβεβαιώθηκε " +
		"μέσω λογαριασμού κοινής ωφέλειας. Δεν εντοπίστηκαν αρνητικά δημοσιεύματα. Комментарий Дмитрия: клиент " +
		"предоставил все запрошенные документы, расхождений не обнаружено; рекомендую одобрить.",
	" — Rejection rationale: the client could not evidence the origin of a series of incoming transfers from an " +
		"unregulated payment institution, totalling more than the declared annual turnover. Repeated requests for " +
		"bank statements went unanswered for 30 days. Screening returned a possible match against a regional " +
		"sanctions list for one of the directors (date of birth and nationality consistent). Per policy FCC-7.3 the " +
		"case is escalated to the MLRO, the relationship is not to be onboarded, and a note is added to the entity " +
		"file so that any new application is routed to enhanced due diligence. Notes from the four-eyes reviewer: " +
		"agree with the assessment; the documents provided in the second submission appear to have been altered " +
		"(font mismatch in the IBAN line, metadata creation date after the statement date). No tipping-off: the " +
		"client is to be told only that the application cannot proceed.",
}
