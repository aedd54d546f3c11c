package bench

import "testing"

// TestChatKeySpreadsOpenings: past the slots' first chats, every chat gets
// perChat messages, and the chats opened in any window of open ops stay
// near open/perChat, instead of open of them at once every open × perChat
// ops (the wave the key used to make).
func TestChatKeySpreadsOpenings(t *testing.T) {
	for _, open := range []int{16, 75, 250} {
		count := map[int]int{}
		first := map[int]int{} // chat → its first op
		n := open * perChat * 6
		for i := range n {
			k := chatKey(i, open)
			if _, ok := first[k]; !ok {
				first[k] = i
			}
			count[k]++
		}
		for k, c := range count {
			if k >= open && first[k]+open*perChat <= n && c != perChat {
				t.Errorf("open %d: chat %d got %d messages, want %d", open, k, c, perChat)
			}
		}
		opened := make([]int, n)
		for k, i := range first {
			if k >= open { // slots' first chats are opened before the row
				opened[i]++
			}
		}
		most := 0
		for w := 0; w+open <= n; w++ {
			sum := 0
			for _, o := range opened[w : w+open] {
				sum += o
			}
			most = max(most, sum)
		}
		if limit := open/perChat + 2; most > limit {
			t.Errorf("open %d: %d chats opened within %d ops, want at most %d", open, most, open, limit)
		}
	}
}
