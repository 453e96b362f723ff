package server

import (
	"github.com/sealpost/sealpost/internal/archive"
	"github.com/sealpost/sealpost/internal/config"
	"github.com/sealpost/sealpost/internal/pipeline"
)

// journal is what the pipeline copies accepted mail into: the archive, unless the
// configuration turns it off to measure what it costs.
func journal(cfg *config.Config) pipeline.Journal {
	if cfg.Archive.Off {
		return nil
	}
	return archive.Prepare
}
