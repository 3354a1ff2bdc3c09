// Package huawei reads the per-minute request counts of the Huawei public
// cloud trace (sir-lab/data-release, 2023 release), selects the windows the
// upstream generator gen_trace.py replays, and writes synthetic datasets in
// the same format.
//
// It imports only the standard library (and the shared helpers of
// traces/tracefile).
//
// # Format
//
// The dataset is a directory requests_minute/ holding one file per day,
// day_00.csv … day_25.csv (DayFileName), each optionally gzip-compressed
// (day_00.csv.gz). A day file has a header and 1440 rows, one per minute:
//
//	day,time,0,1,2,3
//	3,259200,,12.0,7,
//	3,259260,,3.0,9,
//	…                                (1440 rows in all)
//
// The columns after day and time are function ids (5093 of them, 0…5092, in
// the real trace; any set of distinct non-negative integers is accepted and
// ids are mapped by header name, never by position). Row k is minute k of the
// day: day is the file's day and time = day·86400 + 60·k seconds since the
// start of the trace. A cell holds the requests of that function in that
// minute; an empty cell means none. Cells are non-negative integers (12) or,
// as pandas writes a column that has an empty cell, decimals (12.0).
//
// For the example above, function 1 has 12 requests in minute 0 and 3 in
// minute 1, function 0 and function 3 none.
//
// # Reading
//
// Reader streams one day file and validates every cell of every row while
// keeping only the columns it was asked for. Dataset opens a directory (or an
// in-memory set of files) and reads Windows, each day file once. Errors about
// the content of a file are *tracefile.RowError values naming the file, the
// 1-based line (the header is line 1) and the column (its header name),
// wrapping one of the tracefile sentinels or ErrOutOfPlace.
//
// # Synthetic data
//
// Synth writes a whole dataset with invented, heavy-tailed, bursty traffic in
// the real format; Sample builds a small in-memory dataset holding only the
// columns a set of windows needs.
package huawei
