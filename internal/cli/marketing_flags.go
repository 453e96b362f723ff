package cli

import "flag"

// flagSet lets a verb's setup add flags without seeing the tenant flags.
type flagSet struct{ *flag.FlagSet }
