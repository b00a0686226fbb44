Network KD_res8_narrow {

FPS: 3

Layer conv1 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 1, Y: 98, X: 40, R: 3, S: 3 }
}

Layer conv2 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 19, Y: 24, X: 13, R: 3, S: 3 }
}

Layer conv3 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 19, Y: 24, X: 13, R: 3, S: 3 }
}

Layer conv4 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 19, Y: 24, X: 13, R: 3, S: 3 }
}

Layer conv5 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 19, Y: 24, X: 13, R: 3, S: 3 }
}

Layer conv6 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 19, Y: 24, X: 13, R: 3, S: 3 }
}

Layer conv7 { 
	Type: CONV
	Dimensions: { N: 1, K: 19, C: 19, Y: 24, X: 13, R: 3, S: 3 }
}

Layer fc1 { 
	Type: CONV
	Dimensions: { N: 1, K: 12, C: 19, Y: 19, X: 1, R: 1, S: 1 }
}

}
