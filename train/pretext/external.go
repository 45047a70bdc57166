package pretext

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// openInit reads --init. A ResNet with torchvision's names fills graphs' ResNet by name, as
// always; any other network (or any --features) becomes the encoder itself (Net.External):
// its graph cut at the dense map, the pretext heads built on that map's channels. A resumed
// run reads the file again for the network's shape (its values come from the checkpoint).
func (f *Flags) openInit(o *Options) error {
	init, err := onnx.ReadFile(f.Init)
	if err != nil {
		return err
	}
	if f.Features != "" || !seg.ResNetLayout(init) {
		ext, err := seg.ExternalEncoder(init, f.Features, f.Init)
		if err != nil {
			return &UsageError{Msg: err.Error()}
		}
		if err := seg.CheckSize(ext, "--size", f.Size); err != nil {
			return &UsageError{Msg: err.Error()}
		}
		o.Net.External, f.external = ext, true
	}
	if !f.Resume {
		o.Init, o.InitFrom = init, f.Init
	}
	return nil
}
