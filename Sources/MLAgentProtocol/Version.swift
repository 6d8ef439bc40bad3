/// The version of this build of mlagent.
public let mlagentVersion = "0.1.0"
