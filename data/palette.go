package data

import "image/color"

// VOCClasses are PASCAL VOC 2012's 21 segmentation classes, in label order.
var VOCClasses = []string{
	"background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
	"chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
	"sheep", "sofa", "train", "tvmonitor",
}

// VOCPalette returns the first n colours of the VOC devkit palette (bitget construction:
// label 1 = (128,0,0), 2 = (0,128,0), …, 255 = (224,224,192)). Datasets without their own
// palette use it too, so any label map renders the way VOC users expect.
func VOCPalette(n int) []color.RGBA {
	pal := make([]color.RGBA, n)
	for i := range pal {
		pal[i] = vocColour(i)
	}
	return pal
}

func vocColour(label int) color.RGBA {
	var r, g, b uint8
	c := label
	for j := 0; j < 8; j++ {
		r |= uint8(c&1) << (7 - j)
		g |= uint8((c>>1)&1) << (7 - j)
		b |= uint8((c>>2)&1) << (7 - j)
		c >>= 3
	}
	return color.RGBA{r, g, b, 255}
}

// IgnoreColour is the VOC palette's colour for the ignore label 255.
var IgnoreColour = vocColour(Ignore)
