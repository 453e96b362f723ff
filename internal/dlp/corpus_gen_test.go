package dlp

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// item is one labelled statement: a sentence with the value at {v}, and the column
// header the value gets when the statement is exported as a spreadsheet row.
type item struct {
	tmpl, value, label string
}

func (it item) sentence() string { return strings.ReplaceAll(it.tmpl, "{v}", it.value) }

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// gens builds, per category, a positive and a hard negative statement.
type gen struct {
	cat      Category
	pos, neg func(r *rand.Rand) item
}

func gens() []gen {
	return []gen{
		{SSN, posSSN, negSSN}, {NPI, posNPI, negNPI}, {ABA, posABA, negABA}, {Card, posCard, negCard},
		{DEA, posDEA, negDEA}, {MBI, posMBI, negMBI}, {MRN, posMRN, negMRN}, {DOB, posDOB, negDOB},
		{ICD10, posICD, negICD}, {Keyword, posKeyword, negKeyword}, {Regex, posRegex, negRegex},
	}
}

func posSSN(r *rand.Rand) item {
	d := genSSN(r)
	if r.IntN(4) == 0 { // canonical form, no context
		return item{pick(r, "Please verify {v} against the enrollment form.", "Member "+pick(r, names...)+", {v}, requested an EOB copy."), group(d, []int{3, 2, 4}, "-"), "Member"}
	}
	v := pick(r, group(d, []int{3, 2, 4}, "-"), group(d, []int{3, 2, 4}, " "), d)
	return item{pick(r, "Patient SSN: {v}", "Her social security number is {v}, please update the chart.",
		"Member "+pick(r, names...)+", SSN {v}, called about the bill.", "{v} (SSN) was entered twice.",
		"Social Security #: {v}", "SSN# {v}", "S.S.N. {v}", "Soc. Sec. No. {v} on the W-9."), v, "SSN"}
}

func negSSN(r *rand.Rand) item {
	switch r.IntN(6) {
	case 0:
		return item{pick(r, "Patient SSN: {v}", "SSN {v} on the form is wrong."), group(genBadSSN(r), []int{3, 2, 4}, pick(r, "-", " ", "")), "SSN"}
	case 1:
		return item{"Call the clinic at {v} to reschedule.", fmt.Sprintf("%d%02d-555-%04d", 2+r.IntN(8), r.IntN(100), r.IntN(10000)), "Phone"}
	case 2:
		return item{"Mail the form to PO Box 12, Dayton, OH {v}.", fmt.Sprintf("45%03d-%04d", r.IntN(1000), r.IntN(10000)), "ZIP"}
	case 3:
		return item{"SSN: not on file. Order {v} shipped today.", randDigits(r, 9), "Order"}
	case 4:
		return neutral(r, randDigits(r, 9), "Code")
	}
	return item{"Claim {v} was received and is pending review.", group(randDigits(r, 9), []int{3, 3, 3}, "-"), "Claim"}
}

func posNPI(r *rand.Rand) item {
	d := genNPI(r)
	if r.IntN(4) == 0 {
		return item{"Provider " + pick(r, names...) + ", {v}, is in network.", d, "Provider"}
	}
	v := pick(r, d, d, group(d, []int{3, 3, 4}, " "))
	return item{pick(r, "NPI: {v}", "Referring provider "+pick(r, names...)+" (NPI {v}) signed the request.",
		"National provider identifier {v} is on the claim.", "NPI#{v}", "Rendering NPI - {v}", "npi {v}"), v, "NPI"}
}

func negNPI(r *rand.Rand) item {
	switch r.IntN(6) {
	case 0:
		return item{pick(r, "NPI: {v}", "Billing NPI {v} was rejected."), genBadNPI(r), "NPI"}
	case 1:
		return item{"Phone: {v}", fmt.Sprintf("%d%02d555%04d", 2+r.IntN(8), r.IntN(100), r.IntN(10000)), "Phone"}
	case 2:
		return item{"Fax the records to {v} today.", fmt.Sprintf("(%d%02d) 555-%04d", 2+r.IntN(8), r.IntN(100), r.IntN(10000)), "Fax"}
	case 3:
		return item{"Download the statement at https://portal.example.com/doc?ts={v}&lang=en", "17" + randDigits(r, 8), "Link"}
	case 4:
		return item{"Account {v} was credited.", genBadNPI(r), "Account"}
	}
	return item{"Tracking number {v} was delivered.", string(rune('3'+r.IntN(7))) + randDigits(r, 9), "Tracking"}
}

func posABA(r *rand.Rand) item {
	d := genABA(r)
	if r.IntN(4) == 0 {
		return item{"Remit to First Community Bank, {v}, account ending 4321.", d, "Bank"}
	}
	return item{pick(r, "Routing number: {v}", "ABA {v}, account ending 7781.", "Direct deposit: RTN {v}, checking.",
		"Bank routing #: {v}", "Wire to ABA/Routing {v} today."), d, "Routing"}
}

func negABA(r *rand.Rand) item {
	switch r.IntN(5) {
	case 0:
		return item{"Routing number: {v}", genBadABA(r), "Routing"}
	case 1:
		return item{"Order #{v} shipped today.", randDigits(r, 9), "Order"}
	case 2:
		return item{"Routing number: {v}", genABA(r)[:8], "Routing"} // a digit short
	case 3:
		return item{"Routing number: pending. Invoice {v} is due.", randDigits(r, 9), "Invoice"}
	}
	return item{"Remit to First Community Bank, {v}, account ending 4321.", genBadABA(r), "Bank"}
}

func posCard(r *rand.Rand) item {
	d, g := genCard(r)
	v := pick(r, d, group(d, g, " "), group(d, g, "-"))
	if r.IntN(4) == 0 {
		return item{"Please charge {v} for the copay.", group(d, g, " "), "Payment"}
	}
	return item{pick(r, "Card: {v}", "Visa/MC on file {v} exp 04/27.", "Credit card number {v}, CVV given by phone.",
		"Payment card: {v}", "Charge my Amex {v} please."), v, "Card"}
}

func negCard(r *rand.Rand) item {
	d, g := genBadCard(r)
	switch r.IntN(5) {
	case 0:
		return item{"Card: {v}", group(d, g, " "), "Card"}
	case 1:
		return item{"Invoice {v} is due on receipt.", d, "Invoice"}
	case 2:
		return item{"Timestamp {v} logged by the portal.", fmt.Sprintf("2024%02d%02d%02d%02d%02d", 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60)), "Time"}
	case 3:
		return item{"Card: {v}", d[:len(d)-1], "Card"} // a digit short
	}
	return item{"Reference {v} (keep for your records).", randDigits(r, 20), "Reference"}
}

func posDEA(r *rand.Rand) item {
	d := genDEA(r)
	if r.IntN(4) == 0 {
		return item{"Signed: " + pick(r, names...) + ", MD, {v}", d, "Signature"}
	}
	return item{pick(r, "DEA: {v}", "Prescriber DEA number {v} for the Schedule II script.", "Dr. "+pick(r, names...)+" (DEA {v})",
		"DEA #: {v}", "DEA Reg. No. {v}"), d, "DEA"}
}

func negDEA(r *rand.Rand) item {
	lookalike := string(rune('A'+r.IntN(26))) + string(rune('A'+r.IntN(26))) + randDigits(r, 7)
	switch r.IntN(4) {
	case 0:
		return item{"Part {v} is back-ordered.", lookalike, "Part"}
	case 1:
		return item{"Order {v} shipped.", lookalike, "Order"}
	}
	return item{pick(r, "DEA: {v}", "Prescriber DEA number {v}."), genBadDEA(r), "DEA"}
}

func posMBI(r *rand.Rand) item {
	d := genMBI(r)
	v := pick(r, d, d[:4]+"-"+d[4:7]+"-"+d[7:])
	if r.IntN(4) == 0 {
		return item{"Member {v} is eligible for the annual wellness visit.", v, "Member"}
	}
	return item{pick(r, "MBI: {v}", "Medicare ID {v} verified.", "Beneficiary "+pick(r, names...)+" {v}",
		"Medicare Beneficiary Identifier: {v}", "New Medicare number {v}"), v, "MBI"}
}

func negMBI(r *rand.Rand) item {
	d := genBadMBI(r)
	if r.IntN(4) == 0 {
		// Random upper-case codes, as confirmation numbers are.
		const an = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		b := make([]byte, 11)
		for i := range b {
			b[i] = an[r.IntN(len(an))]
		}
		return item{"Confirmation code {v}.", string(b), "Confirmation"}
	}
	return item{pick(r, "MBI: {v}", "Medicare ID {v} could not be verified.", "Confirmation code {v}."), pick(r, d, d[:4]+"-"+d[4:7]+"-"+d[7:]), "MBI"}
}

// Tenant rules used by the corpus: record numbers look like HX12345678.
var corpusRules = Rules{
	MRNPatterns: []string{`HX\d{8}`},
	Keywords:    []string{"HIV", "hepatitis C", "methadone", "oncology", "chemotherapy"},
	Regexps:     []string{`\bCLM-\d{6}\b`},
}

func posMRN(r *rand.Rand) item {
	if r.IntN(3) == 0 {
		return item{pick(r, "Chart {v} was updated.", "See HIM request for {v}."), "HX" + randDigits(r, 8), "Record"}
	}
	v := pick(r, randDigits(r, 6+r.IntN(5)), "A"+randDigits(r, 7), randDigits(r, 4)+"-"+randDigits(r, 3))
	return item{pick(r, "MRN: {v}", "Medical record number {v} is attached.", "Patient ID {v}, seen today.", "Chart number: {v}",
		"MRN#{v}", "Med Rec #: {v}", "Pt ID: {v}"), v, "MRN"}
}

func negMRN(r *rand.Rand) item {
	switch r.IntN(5) {
	case 0:
		return item{"Item {v} is out of stock.", "HX" + randDigits(r, 7), "Item"}
	case 1:
		return item{"Medical records were reviewed on {v}.", fmt.Sprintf("2024-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28)), "Reviewed"}
	case 2:
		return item{"MRN: {v}", pick(r, "pending", "to follow", randDigits(r, 3)), "MRN"}
	case 3:
		return item{"MRN: pending. Invoice {v} is attached.", randDigits(r, 8), "Invoice"}
	}
	return item{"Medical record reviewed {v} by the coder.", fmt.Sprintf("%02d/%02d/2024", 1+r.IntN(12), 1+r.IntN(28)), "Medical record"}
}

var months = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

func dateString(r *rand.Rand, y, m, d int) string {
	switch r.IntN(7) {
	case 0:
		return fmt.Sprintf("%02d/%02d/%d", m, d, y)
	case 1:
		return fmt.Sprintf("%d-%02d-%02d", y, m, d)
	case 2:
		return fmt.Sprintf("%s %d, %d", months[m-1], d, y)
	case 3:
		return fmt.Sprintf("%02d.%02d.%d", d, m, y)
	case 4:
		return fmt.Sprintf("%d %s %d", d, months[m-1][:3], y)
	case 5:
		return fmt.Sprintf("%d/%d/%02d", m, d, y%100)
	}
	return fmt.Sprintf("%02d-%s-%d", d, strings.ToUpper(months[m-1][:3]), y)
}

func posDOB(r *rand.Rand) item {
	v := dateString(r, 1930+r.IntN(90), 1+r.IntN(12), 1+r.IntN(28))
	return item{pick(r, "DOB: {v}", "Date of birth {v}", "The patient was born on {v}.", "{v} (DOB)", "Birthdate: {v}", "d.o.b. {v}",
		"Date of Birth (MM/DD/YYYY): {v}", "DOB {v}, age on file", "Birth date: {v}"), v, "DOB"}
}

func negDOB(r *rand.Rand) item {
	switch r.IntN(5) {
	case 4:
		v := dateString(r, 2020+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28))
		return item{pick(r, "DOB: not provided. Surgery {v}.", "Date of birth unknown; admitted {v}."), v, "Admitted"}
	case 0:
		v := dateString(r, 2020+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28))
		return item{pick(r, "Appointment on {v}.", "Invoice dated {v}.", "Labs drawn {v}, results pending."), v, "Visit date"}
	case 1:
		return item{"DOB: {v}", pick(r, "02/30/1980", "13/13/1975", "1975-14-02", "31.04.1990", "February 29, 1983", "00/12/1960"), "DOB"}
	case 2:
		return item{"The patient was born in {v} and moved here as a child.", pick(r, "1975", "Ohio", "March 1962"), "Born"}
	}
	v := dateString(r, 2020+r.IntN(6), 1+r.IntN(12), 1+r.IntN(28))
	return item{"Date of birth was confirmed by phone with her daughter yesterday afternoon; next visit {v}.", v, "Next visit"}
}

func posICD(r *rand.Rand) item {
	v := pick(r, icdCodes...)
	return item{pick(r, "Dx: {v}", "Diagnosis: chronic condition, see code ({v}).", "ICD-10 {v} added to the problem list.",
		"{v} (dx)", "Diagnoses: "+pick(r, icdCodes...)+", {v}", "ICD-10-CM: {v}", "Primary dx {v} - follow up in 3 months",
		"Dx codes: "+pick(r, icdCodes...)+"; {v}"), v, "Diagnosis"}
}

func negICD(r *rand.Rand) item {
	product := string(rune('A'+r.IntN(26))) + randDigits(r, 2) + pick(r, "", "."+randDigits(r, 1))
	switch r.IntN(4) {
	case 3:
		return item{pick(r, "Dx: pending. Gate {v} opens at 9.", "Diagnosis discussed by phone. Room {v} is ready."), product, "Room"}
	case 0:
		return item{pick(r, "SKU {v} is in stock.", "Boarding gate {v} opens at 9.", "Seat {v}, row near the exit."), product, "SKU"}
	case 1:
		return item{pick(r, "Dx: {v}", "ICD-10 {v}"), pick(r, badICD...), "Diagnosis"}
	}
	return item{"Replacement part {v} arrived in excellent condition.", product, "Part"}
}

func posKeyword(r *rand.Rand) item {
	v := pick(r, corpusRules.Keywords...)
	return item{pick(r, "Referred to {v} clinic for intake.", "History: {v}.", "Discussed {v} treatment options."), pick(r, v, strings.ToUpper(v)), "Notes"}
}

func negKeyword(r *rand.Rand) item {
	v := pick(r, "beehive", "archive", "shiv", "oncologist", "hepatitis A", "chemo", "methadon", "HIVs")
	return item{pick(r, "Referred to the {v} for intake.", "Notes: {v} reviewed."), v, "Notes"}
}

func posRegex(r *rand.Rand) item {
	return item{pick(r, "Claim {v} was denied.", "Appeal for {v} filed."), "CLM-" + randDigits(r, 6), "Claim"}
}

func negRegex(r *rand.Rand) item {
	return item{pick(r, "Claim {v} was denied.", "Appeal for {v} filed."), pick(r, "CLM-"+randDigits(r, 5), "CLN-"+randDigits(r, 6), "CLM-"+randDigits(r, 7), "clm "+randDigits(r, 6)), "Claim"}
}
