# Check every GitHub pipe table: a header row, then a separator row of
# ---, :--- or ---: cells, then rows, all with the same number of cells
# ("\|" inside a cell is text, not a separator).
function cells(line,   s) { s = line; gsub(/\\\\/, "", s); gsub(/\\\|/, "", s); return gsub(/\|/, "", s) - 1 }
/^\|/ {
  if (row == 0) { n = cells($0); tables++ }
  else if (cells($0) != n) { print "row " NR ": " cells($0) " cells, header has " n; bad++ }
  if (row == 1 && $0 !~ /^\|( :?---+:? \|)+$/) { print "row " NR ": not a separator row"; bad++ }
  row++; next
}
{ if (row == 1) { print "line " NR ": a header without a separator"; bad++ } row = 0 }
END { print tables " tables, " (bad ? bad " problems" : "each with a header, a separator and equal columns") }
