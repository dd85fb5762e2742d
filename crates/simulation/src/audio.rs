//! Audio of a chat: the frames a client uploads (one recording sent in pieces) assembled into
//! one file to store and play back.
//!
//! Clients send one of three things, told apart by the first non-empty frame:
//! - **WAV files**, one per frame (a recorder that encodes each piece): their samples are joined
//!   into one WAV, which needs every frame to have the same format (channels, rate, sample
//!   type and size);
//! - **raw PCM**, no container at all: the stream of an audio worklet or of a realtime model
//!   API. The bytes carry no format, so it is assumed: [`PCM_FORMAT`], 16-bit signed
//!   little-endian mono at 24,000 Hz — what OpenAI's realtime API sends and takes (`pcm16`),
//!   and what browser worklets are usually set to produce for it;
//! - **a container stream** cut in pieces (MediaRecorder's WebM or Ogg, fragmented MP4, MP3):
//!   such chunks are consecutive parts of one stream, only the first carrying the header, so
//!   their bytes are joined as they are and the file keeps the container's type.
//!
//! WAV is read and written with `hound` (pure Rust, no features; 3.5.1, released 2023-09, is
//! current, and its ~20 million downloads say it is the Rust ecosystem's WAV crate: the format
//! is finished, so a quiet repository is not a dead one).

use std::io::Cursor;

use crate::error::{Result, SimulationError};

/// The format raw PCM frames are taken to have (module docs).
pub const PCM_FORMAT: hound::WavSpec = hound::WavSpec {
    channels: 1,
    sample_rate: 24_000,
    bits_per_sample: 16,
    sample_format: hound::SampleFormat::Int,
};

/// One assembled recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssembledAudio {
    pub bytes: Vec<u8>,
    pub mime_type: &'static str,
    /// Without the dot.
    pub extension: &'static str,
    /// Known for WAV output (from its sample count), `None` for a container stream, whose
    /// duration only a demuxer could tell.
    pub duration_ms: Option<u64>,
}

/// What the first bytes of a frame say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// `RIFF` … `WAVE`.
    Wav,
    /// A RIFF file that is not WAVE (AVI, WebP, …): nothing this module can assemble.
    OtherRiff,
    /// EBML header `1A 45 DF A3`: WebM (MediaRecorder) or Matroska.
    WebM,
    /// `OggS`.
    Ogg,
    /// An ID3 tag, or an MPEG audio layer III frame confirmed by the next frame (below).
    Mp3,
    /// `ftyp` box at byte 4: MP4 / M4A (Safari's MediaRecorder).
    Mp4,
    /// None of the above: raw PCM.
    Raw,
}

impl Container {
    fn mime_and_extension(self) -> (&'static str, &'static str) {
        match self {
            Container::Wav | Container::Raw => ("audio/wav", "wav"),
            Container::WebM => ("audio/webm", "webm"),
            Container::Ogg => ("audio/ogg", "ogg"),
            Container::Mp3 => ("audio/mpeg", "mp3"),
            Container::Mp4 => ("audio/mp4", "m4a"),
            Container::OtherRiff => ("application/octet-stream", "bin"),
        }
    }
}

/// Tells a frame's container from its first bytes.
///
/// MP3 frames have only an 11-bit sync word, which raw PCM hits easily (a sample of -1 is
/// `FF FF`). So a frame without an ID3 tag counts as MP3 only when it starts with a valid
/// layer III header (version, bitrate and rate not reserved) and either ends exactly where that
/// frame ends or has another valid header there. An MP3 stream whose first piece is shorter
/// than one MP3 frame (~400 bytes) is therefore taken for PCM; MP3 comes from servers (TTS),
/// in pieces far larger than that, while small raw PCM pieces are common.
pub fn sniff(bytes: &[u8]) -> Container {
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" {
        return if &bytes[8..12] == b"WAVE" {
            Container::Wav
        } else {
            Container::OtherRiff
        };
    }
    if bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Container::WebM;
    }
    if bytes.starts_with(b"OggS") {
        return Container::Ogg;
    }
    if bytes.starts_with(b"ID3") {
        return Container::Mp3;
    }
    if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
        return Container::Mp4;
    }
    if let Some(len) = mp3_frame_len(bytes)
        && (bytes.len() == len || bytes.get(len..).and_then(mp3_frame_len).is_some())
    {
        return Container::Mp3;
    }
    Container::Raw
}

/// The length in bytes of the MPEG audio layer III frame whose header starts `bytes`, if it
/// is a valid one.
fn mp3_frame_len(bytes: &[u8]) -> Option<usize> {
    let h = bytes.get(..4)?;
    if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let version = (h[1] >> 3) & 0b11; // 00 MPEG 2.5, 01 reserved, 10 MPEG 2, 11 MPEG 1
    let layer = (h[1] >> 1) & 0b11; // 01 layer III
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 0b11);
    let padding = usize::from((h[2] >> 1) & 1);
    let emphasis = h[3] & 0b11;
    // Free-format (bitrate index 0) has no computable length, so it cannot be confirmed.
    if version == 0b01 || layer != 0b01 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 || emphasis == 2
    {
        return None;
    }
    const MPEG1_KBPS: [usize; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
    const MPEG2_KBPS: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let (kbps, rate, coefficient) = match version {
        0b11 => (MPEG1_KBPS[bitrate_index], [44_100, 48_000, 32_000][rate_index], 144),
        0b10 => (MPEG2_KBPS[bitrate_index], [22_050, 24_000, 16_000][rate_index], 72),
        _ => (MPEG2_KBPS[bitrate_index], [11_025, 12_000, 8_000][rate_index], 72),
    };
    Some(coefficient * kbps * 1000 / rate + padding)
}

/// Assembles a recording's frames, in order (module docs for the three cases). Empty frames
/// are skipped. Errors, each naming the field (`frames` or `frames[i]`, an index into
/// `frames`):
/// - `frames`: more than `max_bytes` in all (checked before anything is copied), or no audio
///   at all (no non-empty frame; raw PCM shorter than one sample);
/// - `frames[i]`: a RIFF file that is not WAVE; a WAV that cannot be read (truncated, or an
///   encoding other than integer PCM or 32-bit float); a WAV whose format differs from the
///   first frame's; a WAV frame among raw or stream frames, or a frame of another container,
///   or of raw PCM, among WAV frames.
///
/// Raw PCM: the frames are one byte stream, so they are joined first and only then cut into
/// samples; an odd byte at the very end (half a sample, as a stream cut mid-sample leaves) is
/// dropped. A WebM/Ogg/MP4/MP3 frame may begin with its container's header again (a recorder
/// restarted): that is kept as it is, since cutting the stream apart is a demuxer's job.
pub fn assemble(frames: &[&[u8]], max_bytes: usize) -> Result<AssembledAudio> {
    let total = frames.iter().fold(0usize, |sum, f| sum.saturating_add(f.len()));
    if total > max_bytes {
        return Err(invalid(
            "frames",
            format!("{total} bytes of audio; at most {max_bytes}"),
        ));
    }
    let mut present = frames.iter().enumerate().filter(|(_, f)| !f.is_empty());
    let Some((first_index, first)) = present.next() else {
        return Err(invalid("frames", "no audio"));
    };
    match sniff(first) {
        Container::Wav => join_wav(frames),
        Container::Raw => wrap_pcm(frames),
        Container::OtherRiff => Err(invalid(
            &format!("frames[{first_index}]"),
            "a RIFF file that is not WAVE audio",
        )),
        stream => join_stream(frames, stream),
    }
}

fn join_wav(frames: &[&[u8]]) -> Result<AssembledAudio> {
    let mut present = frames.iter().enumerate().filter(|(_, f)| !f.is_empty());
    let Some((first_index, first)) = present.next() else {
        return Err(invalid("frames", "no audio"));
    };
    let reader = open_wav(first, first_index)?;
    let spec = reader.spec();
    // hound's writer gives nothing back when it finishes, so it writes through a borrow.
    let mut buffer = Cursor::new(Vec::with_capacity(first.len()));
    let mut writer = hound::WavWriter::new(&mut buffer, spec)
        .map_err(|e| invalid(&format!("frames[{first_index}]"), format!("unwritable WAV format: {e}")))?;
    copy_samples(reader, &mut writer, first_index)?;
    for (i, frame) in present {
        let reader = open_wav(frame, i)?;
        if reader.spec() != spec {
            return Err(invalid(
                &format!("frames[{i}]"),
                format!(
                    "WAV format {} differs from frames[{first_index}]'s {}",
                    describe(&reader.spec()),
                    describe(&spec)
                ),
            ));
        }
        copy_samples(reader, &mut writer, i)?;
    }
    let samples_per_channel = writer.len() / u32::from(spec.channels.max(1));
    finish(writer)?;
    Ok(AssembledAudio {
        bytes: buffer.into_inner(),
        mime_type: "audio/wav",
        extension: "wav",
        duration_ms: duration_ms(samples_per_channel, spec.sample_rate),
    })
}

fn open_wav(frame: &[u8], index: usize) -> Result<hound::WavReader<Cursor<&[u8]>>> {
    let field = format!("frames[{index}]");
    if sniff(frame) != Container::Wav {
        return Err(invalid(&field, "not a WAV file, unlike the frames before it"));
    }
    hound::WavReader::new(Cursor::new(frame)).map_err(|e| invalid(&field, format!("unreadable WAV: {e}")))
}

/// Decodes every sample of `reader` into `writer` (same spec). Re-encoding rather than copying
/// bytes lets hound check each frame's data as it goes (a truncated data chunk is an error here,
/// not a click in the recording).
fn copy_samples(
    reader: hound::WavReader<Cursor<&[u8]>>,
    writer: &mut hound::WavWriter<&mut Cursor<Vec<u8>>>,
    index: usize,
) -> Result<()> {
    let copy = || -> hound::Result<()> {
        match reader.spec().sample_format {
            hound::SampleFormat::Int => {
                for s in reader.into_samples::<i32>() {
                    writer.write_sample(s?)?;
                }
            }
            hound::SampleFormat::Float => {
                for s in reader.into_samples::<f32>() {
                    writer.write_sample(s?)?;
                }
            }
        }
        Ok(())
    };
    copy().map_err(|e| invalid(&format!("frames[{index}]"), format!("unreadable WAV: {e}")))
}

fn wrap_pcm(frames: &[&[u8]]) -> Result<AssembledAudio> {
    for (i, frame) in frames.iter().enumerate().skip(1) {
        // Only unmistakable headers count here: PCM bytes can look like an MP3 sync word, but
        // not like `RIFF....WAVE` or the other 4-byte magics (one chance in 2^32).
        if !matches!(sniff(frame), Container::Raw | Container::Mp3) || frame.starts_with(b"ID3") {
            return Err(invalid(
                &format!("frames[{i}]"),
                "a container file among raw PCM frames",
            ));
        }
    }
    let total: usize = frames.iter().map(|f| f.len()).sum();
    let samples = total / 2;
    if samples == 0 {
        return Err(invalid("frames", "no audio: raw PCM shorter than one 16-bit sample"));
    }
    let mut buffer = Cursor::new(Vec::with_capacity(44 + samples * 2));
    let mut writer = hound::WavWriter::new(&mut buffer, PCM_FORMAT)
        .map_err(|e| invalid("frames", format!("cannot write WAV: {e}")))?;
    // A sample may straddle two frames, so read the frames as one stream.
    let mut bytes = frames.iter().flat_map(|f| f.iter().copied());
    for _ in 0..samples {
        let (Some(lo), Some(hi)) = (bytes.next(), bytes.next()) else {
            break;
        };
        writer
            .write_sample(i16::from_le_bytes([lo, hi]))
            .map_err(|e| invalid("frames", format!("cannot write WAV: {e}")))?;
    }
    let written = writer.len();
    finish(writer)?;
    let bytes = buffer.into_inner();
    Ok(AssembledAudio {
        bytes,
        mime_type: "audio/wav",
        extension: "wav",
        duration_ms: duration_ms(written, PCM_FORMAT.sample_rate),
    })
}

fn join_stream(frames: &[&[u8]], container: Container) -> Result<AssembledAudio> {
    for (i, frame) in frames.iter().enumerate() {
        let kind = sniff(frame);
        // Continuation chunks have no header (they sniff as raw); a header of this same
        // container is a restarted recorder (kept, see `assemble`); any other header is a
        // different recording mixed in.
        if !frame.is_empty() && kind != Container::Raw && kind != container {
            return Err(invalid(
                &format!("frames[{i}]"),
                format!("{kind:?} data among {container:?} frames"),
            ));
        }
    }
    let (mime_type, extension) = container.mime_and_extension();
    Ok(AssembledAudio {
        bytes: frames.concat(),
        mime_type,
        extension,
        duration_ms: None,
    })
}

fn finish(writer: hound::WavWriter<&mut Cursor<Vec<u8>>>) -> Result<()> {
    // hound patches the RIFF and data sizes into the header here; it refuses data past the
    // 4 GiB a WAV's 32-bit sizes can describe.
    writer
        .finalize()
        .map_err(|e| invalid("frames", format!("cannot write WAV: {e}")))
}

fn duration_ms(samples_per_channel: u32, sample_rate: u32) -> Option<u64> {
    (sample_rate > 0).then(|| u64::from(samples_per_channel) * 1000 / u64::from(sample_rate))
}

fn describe(spec: &hound::WavSpec) -> String {
    let kind = match spec.sample_format {
        hound::SampleFormat::Int => "int",
        hound::SampleFormat::Float => "float",
    };
    format!(
        "{} ch, {} Hz, {}-bit {kind}",
        spec.channels, spec.sample_rate, spec.bits_per_sample
    )
}

fn invalid(field: &str, reason: impl Into<String>) -> SimulationError {
    SimulationError::InvalidField {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 440 Hz tone, `n` samples of 16-bit PCM.
    fn tone(n: usize, phase: usize) -> Vec<i16> {
        (0..n)
            .map(|i| {
                let t = (i + phase) as f64 / 24_000.0;
                ((t * 440.0 * std::f64::consts::TAU).sin() * 12_000.0) as i16
            })
            .collect()
    }

    fn pcm_bytes(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    fn wav(spec: hound::WavSpec, samples: &[i16]) -> Vec<u8> {
        let mut buffer = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut buffer, spec).unwrap();
        for s in samples {
            w.write_sample(*s).unwrap();
        }
        w.finalize().unwrap();
        buffer.into_inner()
    }

    fn read_back(bytes: &[u8]) -> (hound::WavSpec, Vec<i16>) {
        let r = hound::WavReader::new(Cursor::new(bytes)).unwrap();
        let spec = r.spec();
        (spec, r.into_samples::<i16>().map(|s| s.unwrap()).collect())
    }

    #[test]
    fn raw_pcm_becomes_one_24khz_mono_wav_across_frame_boundaries() {
        let samples = tone(24_000, 0);
        let bytes = pcm_bytes(&samples);
        // Odd-sized frames: samples straddle frame boundaries.
        let frames: Vec<&[u8]> = bytes.chunks(4_801).collect();
        let a = assemble(&frames, 1 << 20).unwrap();
        assert_eq!(
            (a.mime_type, a.extension, a.duration_ms),
            ("audio/wav", "wav", Some(1_000))
        );
        assert_eq!(a.bytes.len(), 44 + bytes.len());
        let (spec, back) = read_back(&a.bytes);
        assert_eq!(spec, PCM_FORMAT);
        assert_eq!(back, samples);
    }

    #[test]
    fn an_odd_trailing_byte_of_raw_pcm_is_dropped() {
        let mut bytes = pcm_bytes(&tone(101, 0));
        bytes.push(0x7F);
        let a = assemble(&[&bytes[..100], &bytes[100..]], 1 << 20).unwrap();
        let (_, back) = read_back(&a.bytes);
        assert_eq!(back, tone(101, 0));
        assert_eq!(a.duration_ms, Some(4));
        assert!(assemble(&[&[0x01]], 10).is_err());
    }

    #[test]
    fn wav_frames_of_one_format_are_joined() {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let one = tone(3_200, 0);
        let two = tone(4_800, 3_200);
        let (a, b) = (wav(spec, &one), wav(spec, &two));
        let out = assemble(&[&a, &[], &b], 1 << 20).unwrap();
        let (back_spec, back) = read_back(&out.bytes);
        assert_eq!(back_spec, spec);
        assert_eq!(back, [one, two].concat());
        // 8,000 samples over 2 channels at 16 kHz.
        assert_eq!(out.duration_ms, Some(250));
    }

    #[test]
    fn wav_frames_of_different_formats_are_refused() {
        let a = wav(PCM_FORMAT, &tone(100, 0));
        let b = wav(
            hound::WavSpec {
                sample_rate: 48_000,
                ..PCM_FORMAT
            },
            &tone(100, 0),
        );
        let e = assemble(&[&a, &b], 1 << 20).unwrap_err();
        assert_eq!(e.field(), Some("frames[1]"));
        assert!(e.to_string().contains("48000 Hz"), "{e}");
        // A raw frame after a WAV one, and a truncated WAV.
        let raw = pcm_bytes(&tone(10, 0));
        assert_eq!(assemble(&[&a, &raw], 1 << 20).unwrap_err().field(), Some("frames[1]"));
        assert_eq!(
            assemble(&[&a[..a.len() - 3]], 1 << 20).unwrap_err().field(),
            Some("frames[0]")
        );
        // A WAV frame after raw ones.
        assert_eq!(assemble(&[&raw, &a], 1 << 20).unwrap_err().field(), Some("frames[1]"));
    }

    #[test]
    fn container_streams_are_concatenated_with_their_type() {
        let webm_head = [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81];
        let cluster = [0x1F, 0x43, 0xB6, 0x75, 1, 2, 3];
        let a = assemble(&[&webm_head, &cluster, &cluster], 1 << 20).unwrap();
        assert_eq!((a.mime_type, a.extension, a.duration_ms), ("audio/webm", "webm", None));
        assert_eq!(a.bytes, [&webm_head[..], &cluster, &cluster].concat());
        let ogg = assemble(&[b"OggS\0\x02rest", b"more"], 100).unwrap();
        assert_eq!((ogg.mime_type, ogg.extension), ("audio/ogg", "ogg"));
        let mp4 = assemble(&[b"\0\0\0\x18ftypM4A ", b"moof"], 100).unwrap();
        assert_eq!((mp4.mime_type, mp4.extension), ("audio/mp4", "m4a"));
        let mp3 = assemble(&[b"ID3\x04\0\0\0\0\0\0", b"\xFF\xFB\x90\x00"], 100).unwrap();
        assert_eq!((mp3.mime_type, mp3.extension), ("audio/mpeg", "mp3"));
        // Another container's header in the middle is another recording.
        let e = assemble(&[&webm_head, b"OggS...."], 100).unwrap_err();
        assert_eq!(e.field(), Some("frames[1]"));
    }

    #[test]
    fn mp3_needs_a_confirmed_frame_and_pcm_that_looks_like_a_sync_word_stays_pcm() {
        // MPEG 1 layer III, 128 kbps, 44.1 kHz, no padding: 417-byte frames.
        let mut frame = vec![0u8; 417];
        frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        assert_eq!(mp3_frame_len(&frame), Some(417));
        assert_eq!(sniff(&frame), Container::Mp3);
        assert_eq!(sniff(&[frame.clone(), frame.clone()].concat()), Container::Mp3);
        // The same header followed by something that is not a frame: PCM (samples -1281, 144, …).
        let mut pcm = frame.clone();
        pcm.extend_from_slice(&[1, 2, 3, 4, 5]);
        assert_eq!(sniff(&pcm), Container::Raw);
        // Silence with a sample of -1 first.
        assert_eq!(sniff(&[0xFF, 0xFF, 0, 0, 0, 0]), Container::Raw);
    }

    #[test]
    fn limits_and_empty_input() {
        let bytes = pcm_bytes(&tone(100, 0));
        let e = assemble(&[&bytes, &bytes], 399).unwrap_err();
        assert_eq!(e.field(), Some("frames"));
        assert!(assemble(&[&bytes, &bytes], 400).is_ok());
        assert_eq!(assemble(&[], 10).unwrap_err().field(), Some("frames"));
        assert_eq!(assemble(&[&[], &[]], 10).unwrap_err().field(), Some("frames"));
        let avi = b"RIFF\x10\0\0\0AVI LIST";
        assert_eq!(assemble(&[&[], avi], 100).unwrap_err().field(), Some("frames[1]"));
    }
}
