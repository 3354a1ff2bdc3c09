package azure

// upstreamPositions are the 26 joined-table positions upstream gen_trace.py
// picks for its azure workload (spec §1.8; workloads/params/azure.yaml), in
// the order of its table: base names, then _1, then _2.
func upstreamPositions() []int {
	return []int{
		6669, 37121, 10982, 2400, 14876, 28412, 28418, 39078, 44914, 26387, 19236,
		40905, 31485, 11187, 5195, 35943, 8849, 35278, 4756,
		36112, 23833, 8997, 29974, 15085, 25780, 3237,
	}
}

// upstreamSelection is the selection upstream makes for positions: day 3,
// minute columns 1…60.
func upstreamSelection(positions []int) Selection {
	return Selection{Day: DefaultDay, Positions: positions, First: 1, Last: 60}
}

// sampleForTest is Sample covering upstream's selection.
func sampleForTest(seed uint64) *Dataset {
	d, err := Sample(seed, upstreamSelection(upstreamPositions()))
	if err != nil {
		panic(err)
	}
	return d
}
