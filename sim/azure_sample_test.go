package sim

import (
	"trenv-bench/traces/azure"
)

func azureSample(sel azure.Selection) (*azure.Dataset, error) { return azure.Sample(1, sel) }
