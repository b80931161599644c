package prompts

import (
	"fmt"
	"strings"
)

// maxDiffLines bounds the inputs of Diff (prompts are short; the LCS table is
// quadratic).
const maxDiffLines = 2000

// Diff writes the line differences from a to b, each line prefixed by " "
// (kept), "-" (only in a) or "+" (only in b), as a prompt engineer reads them
// side by side with the eval report of each version.
func Diff(a, b string) (string, error) {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x) > maxDiffLines || len(y) > maxDiffLines {
		return "", fmt.Errorf("%w: more than %d lines to compare", ErrInvalid, maxDiffLines)
	}
	// lcs[i][j] is the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out strings.Builder
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			out.WriteString("  " + x[i] + "\n")
			i++
			j++
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			out.WriteString("+ " + y[j] + "\n")
			j++
		default:
			out.WriteString("- " + x[i] + "\n")
			i++
		}
	}
	return out.String(), nil
}
