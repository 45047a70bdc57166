package pretext

import (
	"slices"
	"testing"
)

// TestCheckpointMomentumFiles: a momentum method's checkpoint holds the queues it has and no
// others (PLMoCo without the global branch has no queue.bin), and Checkpoint or Restore
// before Build is an error, not a nil dereference of the key network.
func TestCheckpointMomentumFiles(t *testing.T) {
	for _, method := range []string{"moco", "plmoco", "byol"} {
		task, err := New(method, tinyOptions(32), tinyConfig(t, method))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := task.Checkpoint(); err == nil || !contains(err.Error(), "before Build") {
			t.Errorf("%s: Checkpoint before Build: %v", method, err)
		}
		if err := task.Restore(map[string][]byte{}); err == nil || !contains(err.Error(), "before Build") {
			t.Errorf("%s: Restore before Build: %v", method, err)
		}
	}

	c := tinyConfig(t, "plmoco").(*PLMoCoConfig)
	c.GlobalWeight = 0
	task, err := New("plmoco", tinyOptions(32), c)
	if err != nil {
		t.Fatal(err)
	}
	buildDriver(t, task, 4, 0.05)
	files, err := task.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sortedNames(files), []string{DenseQueueFile, KeyFile, ModelFile}; !slices.Equal(got, want) {
		t.Errorf("PLMoCo without the global branch checkpoints %v, want %v", got, want)
	}
	if err := task.Restore(files); err != nil {
		t.Errorf("restoring it: %v", err)
	}
	delete(files, DenseQueueFile)
	if err := task.Restore(files); err == nil || !contains(err.Error(), DenseQueueFile) {
		t.Errorf("restoring without %s: %v", DenseQueueFile, err)
	}
}
