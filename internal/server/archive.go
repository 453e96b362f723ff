package server

import (
	"time"

	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/pipeline"
)

// journal is what the pipeline copies accepted mail into: the archive, when the
// configuration turns the journal on.
func journal(cfg *config.Config) pipeline.Journal {
	if !cfg.Archive.Journal {
		return nil
	}
	return archive.Prepare
}

// archiveIndexEvery is how often the worker looks for archive entries waiting for
// their index job.
const archiveIndexEvery = time.Second
