// Package azure holds streaming readers of the Azure Functions 2019 trace
// (AzurePublicDataset, "AzureFunctionsDataset2019"), the join and positional
// selection rule that upstream gen_trace.py applies to it, and a generator of
// synthetic datasets in the same format.
//
// The trace has three families of CSV files, one file per day:
//
//	invocations_per_function_md.anon.d03.csv
//	  HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440
//	  1fd2055f0b70052d,5b72e326fb03af07,e6fd193c3dc23f04,http,35,34,0,…
//	function_durations_percentiles.anon.d03.csv
//	  HashOwner,HashApp,HashFunction,Average,Count,Minimum,Maximum,percentile_Average_0,…
//	  3c2e9221bf1ba6cd,b1495e9d94c0be82,d4c6345c863030e0,8634,111,3108,147271,3108,…
//	app_memory_percentiles.anon.d03.csv
//	  HashOwner,HashApp,SampleCount,AverageAllocatedMb,AverageAllocatedMb_pct1,…
//	  712ae3df769b706c,e9fc755d4a480092,8729,287,253,268,279,280,361,409,422,458
//
// [NewInvocationsReader], [NewDurationsReader] and [NewMemoryReader] read one
// file each, row by row, in bounded memory, validating every row; errors are
// [*tracefile.RowError] values naming file, line and column. [OpenDataset]
// finds a day's files in a directory, beside a named file, or inside the
// original tar.xz archive; [Dataset.Select] joins invocations with durations
// on (HashOwner, HashApp, HashFunction) and picks rows by their position in
// the joined table, as upstream's pandas code does. [Synth] and [SynthBytes]
// write synthetic days; [Sample] is a small in-memory one.
//
// The package imports only the standard library, trenv-bench/traces/tracefile
// and github.com/ulikunitz/xz.
package azure

import (
	"errors"
	"fmt"
	"strconv"
)

// DefaultDay is the day of the trace upstream gen_trace.py reads (d03).
const DefaultDay = 3

// DayMinutes is the number of minute columns in a real invocations file.
const DayMinutes = 1440

// File-name prefixes and suffix of the three families; the day goes between
// them as two digits (d01…d14).
const (
	invocationsPrefix = "invocations_per_function_md.anon.d"
	durationsPrefix   = "function_durations_percentiles.anon.d"
	memoryPrefix      = "app_memory_percentiles.anon.d"
	csvSuffix         = ".csv"
)

// InvocationsName returns the file name of the invocation counts of a day,
// e.g. "invocations_per_function_md.anon.d03.csv" for day 3.
func InvocationsName(day int) string { return fileName(invocationsPrefix, day) }

// DurationsName returns the file name of the execution-duration percentiles
// of a day, e.g. "function_durations_percentiles.anon.d03.csv".
func DurationsName(day int) string { return fileName(durationsPrefix, day) }

// MemoryName returns the file name of the app-memory percentiles of a day,
// e.g. "app_memory_percentiles.anon.d03.csv".
func MemoryName(day int) string { return fileName(memoryPrefix, day) }

func fileName(prefix string, day int) string {
	return fmt.Sprintf("%s%02d%s", prefix, day, csvSuffix)
}

// Header column names.
const (
	ColOwner    = "HashOwner"
	ColApp      = "HashApp"
	ColFunction = "HashFunction"
	ColTrigger  = "Trigger"
)

// durationsColumns is the header of a durations file, in file order. Times
// are in milliseconds.
var durationsColumns = [...]string{
	ColOwner, ColApp, ColFunction, "Average", "Count", "Minimum", "Maximum",
	"percentile_Average_0", "percentile_Average_1", "percentile_Average_25",
	"percentile_Average_50", "percentile_Average_75", "percentile_Average_99",
	"percentile_Average_100",
}

// memoryColumns is the header of an app-memory file, in file order. Sizes
// are in MB.
var memoryColumns = [...]string{
	ColOwner, ColApp, "SampleCount", "AverageAllocatedMb",
	"AverageAllocatedMb_pct1", "AverageAllocatedMb_pct5", "AverageAllocatedMb_pct25",
	"AverageAllocatedMb_pct50", "AverageAllocatedMb_pct75", "AverageAllocatedMb_pct95",
	"AverageAllocatedMb_pct99", "AverageAllocatedMb_pct100",
}

// DurationsHeader returns the columns of a durations file, in the order of
// the real files. The readers find columns by name, so other orders work too.
func DurationsHeader() []string { return append([]string(nil), durationsColumns[:]...) }

// MemoryHeader returns the columns of an app-memory file, in the order of the
// real files.
func MemoryHeader() []string { return append([]string(nil), memoryColumns[:]...) }

// InvocationsHeader returns the header of an invocations file with the given
// number of minute columns: HashOwner,HashApp,HashFunction,Trigger,1,…,minutes.
func InvocationsHeader(minutes int) []string {
	h := make([]string, 0, 4+minutes)
	h = append(h, ColOwner, ColApp, ColFunction, ColTrigger)
	for m := 1; m <= minutes; m++ {
		h = append(h, strconv.Itoa(m))
	}
	return h
}

// Errors of this package, wrapped in a [*tracefile.RowError] like the
// tracefile sentinels.
var (
	// ErrEmpty means a hash cell is empty.
	ErrEmpty = errors.New("azure: empty hash")
	// ErrLineTooLong means a line is longer than MaxLineBytes.
	ErrLineTooLong = errors.New("azure: line too long")
	// ErrQuotedNewline means a quoted field holds a line break; the readers
	// take one line per row and do not support it.
	ErrQuotedNewline = errors.New("azure: quoted field spans lines (not supported)")
)

// MaxLineBytes is the longest line the readers accept, in bytes. A real
// invocations row is about 3 KB; the limit bounds memory on bad input.
const MaxLineBytes = 16 << 20
