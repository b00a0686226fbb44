Network parent {
FPS: 60
Layer conv1 {
	Type: CONV
	Dimensions: { N: 1, K: 8, C: 4, Y: 18, X: 18, R: 3, S: 3 }
}
}
Network child {
Dependency: {
	parent
}
Probability: 0.5
FPS: 60
Layer conv1 {
	Type: CONV
	Dimensions: { N: 1, K: 16, C: 8, Y: 16, X: 16, R: 3, S: 3 }
}
Layer fc { // 1x1
	Type: CONV
	Dimensions: { N: 1, K: 10, C: 16, Y: 2, X: 3, R: 5, S: 5 }
}
}
