package data

import (
	"fmt"
	"math/rand/v2"
)

// ImageNet statistics on 0–255 RGB (mmseg's and torchvision's pixel normalisation).
var (
	ImageNetMean = [3]float32{123.675, 116.28, 103.53}
	ImageNetStd  = [3]float32{58.395, 57.12, 57.375}
)

// NormalizeRecord gives the statistics used, so a view can be turned back into pixels.
type NormalizeRecord struct{ Mean, Std [3]float32 }

func (r NormalizeRecord) String() string {
	return fmt.Sprintf("normalize mean %v std %v", r.Mean, r.Std)
}

// Normalize maps each channel to (x − Mean)/Std. It is the last step of every pipeline that
// feeds a network.
type Normalize struct{ Mean, Std [3]float32 }

func (s Normalize) Apply(v *View, _ *rand.Rand) (Record, error) {
	for c := 0; c < 3; c++ {
		if s.Std[c] == 0 {
			return nil, fmt.Errorf("data: Normalize: std[%d] = 0", c)
		}
		m, inv := s.Mean[c], 1/s.Std[c]
		p := v.Image.Plane(c)
		for i, x := range p {
			p[i] = (x - m) * inv
		}
	}
	return NormalizeRecord(s), nil
}

// Denormalize undoes the last Normalize recorded in v.Did on a copy of its image, giving
// 0–255 pixels again (for previews); without one it returns the image itself.
func Denormalize(v *View) *Image {
	for i := len(v.Did) - 1; i >= 0; i-- {
		r, ok := v.Did[i].(NormalizeRecord)
		if !ok {
			continue
		}
		out := v.Image.Clone()
		for c := 0; c < 3; c++ {
			p := out.Plane(c)
			for j, x := range p {
				p[j] = x*r.Std[c] + r.Mean[c]
			}
		}
		return out
	}
	return v.Image
}
